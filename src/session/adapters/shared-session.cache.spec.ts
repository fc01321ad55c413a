import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { MemorySessionStore } from './memory/memory-session.store.js';
import { RECONCILE_MARGIN_MS } from './cache-reconciler.js';
import { SharedSessionCache, type SharedSessionCacheOptions } from './shared-session.cache.js';
import type { InvalidationChannel, SharedSessionTier, TierLookup, Watermark } from './shared-session-tier.js';
import { REVOKED, UNAVAILABLE, type CachedSession } from '../ports/session-cache.js';

const T0 = Date.UTC(2030, 0, 1);

/** A shared tier in memory, like Redis: it can be made unreachable (`available`), failing, restarted or restored. */
class FakeTier implements SharedSessionTier {
  readonly backend = 'fake';
  available = true;
  failing = false;
  entries = new Map<string, { entry: CachedSession | typeof REVOKED; epoch?: string }>();
  mark: Watermark | null = null;
  readonly leases = new Map<string, number>();
  private readonly reconnectHandlers: Array<() => void> = [];
  constructor(private readonly now: () => number) {}
  private call<T>(run: () => T): Promise<T> {
    return this.failing ? Promise.reject(new Error('tier down')) : Promise.resolve().then(run);
  }
  /** Puts a session straight into the tier, in the current epoch unless told otherwise. */
  put(hash: string, session: CachedSession, epoch = this.mark?.epoch ?? 'none') {
    this.entries.set(hash, { entry: session, epoch });
  }
  /** What the tier holds for a hash: a session, REVOKED or undefined. */
  peekEntry(hash: string) {
    return this.entries.get(hash)?.entry;
  }
  /** Restarts with `state` (a snapshot) or empty; every client reconnects. */
  restart(state?: { entries: FakeTier['entries']; mark: Watermark | null }) {
    this.entries = new Map(state?.entries ?? []);
    this.mark = state?.mark ? { ...state.mark } : null;
    for (const handler of this.reconnectHandlers) handler();
  }
  snapshot() {
    return { entries: new Map(this.entries), mark: this.mark ? { ...this.mark } : null };
  }
  get(hash: string): Promise<TierLookup> {
    return this.call(() => {
      const found = this.entries.get(hash);
      if (!found) return null;
      return found.entry === REVOKED ? { entry: REVOKED, ttlMs: 60_000 } : { entry: found.entry, epoch: found.epoch!, ttlMs: 60_000 };
    });
  }
  set(hash: string, session: CachedSession, _ttl: number, epoch: string) {
    return this.call(() => {
      if (this.entries.get(hash)?.entry !== REVOKED) this.entries.set(hash, { entry: session, epoch });
    });
  }
  markRevoked(_userId: string, hashes: readonly string[]) {
    return this.call(() => hashes.forEach((hash) => this.entries.set(hash, { entry: REVOKED })));
  }
  forget(_userId: string, hashes: readonly string[]) {
    return this.call(() => hashes.forEach((hash) => this.entries.delete(hash)));
  }
  supersede(_userId: string, sessions: ReadonlyArray<{ accessHash: string }>) {
    return this.call(() => sessions.forEach(({ accessHash }) => this.entries.get(accessHash)?.entry !== REVOKED && this.entries.delete(accessHash)));
  }
  deleteUser(userId: string) {
    return this.call(() => {
      for (const [hash, { entry }] of this.entries) if (entry !== REVOKED && entry.userId === userId) this.entries.delete(hash);
    });
  }
  watermark() {
    return this.call(() => (this.mark ? { ...this.mark } : null));
  }
  createWatermark(candidate: Watermark, marginMs: number) {
    return this.call(() => {
      this.mark ??= { epoch: candidate.epoch, mark: Math.min(candidate.mark, this.now() - marginMs) };
      return { ...this.mark };
    });
  }
  advanceWatermark(epoch: string, mark: number, marginMs: number) {
    return this.call(() => {
      const clamped = Math.min(mark, this.now() - marginMs);
      if (this.mark?.epoch === epoch && clamped > this.mark.mark) this.mark = { epoch, mark: clamped };
    });
  }
  lease(job: string, ms: number) {
    return this.call(() => {
      if ((this.leases.get(job) ?? 0) > this.now()) return false;
      this.leases.set(job, this.now() + ms);
      return true;
    });
  }
  onReconnect(handler: () => void) {
    this.reconnectHandlers.push(handler);
  }
  async ping() { return !this.failing; }
}

/**
 * A channel whose health the test sets; what is published reaches every listener (this instance
 * included) — at once, or, while `late`, when the test calls `deliver` (one pub/sub hop: the
 * publisher has its answer first).
 */
class FakeChannel implements InvalidationChannel {
  private isHealthy = true;
  late = false;
  private readonly held: Array<() => void> = [];
  readonly published: Array<{ hashes?: string[]; userId?: string; unmarked?: boolean }> = [];
  private readonly listeners: Array<(i: { hashes?: string[]; userId?: string }) => void> = [];
  private readonly healthListeners: Array<(healthy: boolean) => void> = [];
  get healthy() { return this.isHealthy; }
  set healthy(value: boolean) {
    if (value !== this.isHealthy) for (const listener of this.healthListeners) listener(value);
    this.isHealthy = value;
  }
  async publish(invalidation: { hashes?: string[]; userId?: string; unmarked?: boolean }) {
    this.published.push(invalidation);
    const hear = () => this.listeners.forEach((listener) => listener(invalidation));
    if (this.late) this.held.push(hear);
    else hear();
  }
  deliver() {
    for (const hear of this.held.splice(0)) hear();
  }
  onInvalidation(handler: (i: { hashes?: string[]; userId?: string }) => void) { this.listeners.push(handler); }
  onHealthChange(handler: (healthy: boolean) => void) { this.healthListeners.push(handler); }
  async start() {}
  close() {}
}

const caches: SharedSessionCache[] = [];

async function setup(options: Partial<SharedSessionCacheOptions> = {}) {
  let now = T0;
  const clock = () => now;
  const store = new MemorySessionStore();
  const tier = new FakeTier(clock);
  const channel = new FakeChannel();
  const instance = () => {
    const cache = new SharedSessionCache(tier, channel, { localTtlMs: 10_000, localEntries: 100, now: clock, ...options });
    caches.push(cache);
    return cache;
  };
  const cache = instance();
  await cache.start({ store });
  const open = async (userId = 'user-1') =>
    store.insert({
      id: randomUUID(),
      userId,
      roles: [],
      accessHash: randomUUID(),
      refreshHash: randomUUID(),
      accessExpiresAt: new Date(T0 + 3_600_000),
      expiresAt: new Date(T0 + 86_400_000),
      absoluteExpiresAt: new Date(T0 + 86_400_000),
      createdAt: new Date(T0),
      authenticatedAt: new Date(T0),
      lastActivityAt: new Date(T0),
      ipAddress: null,
      userAgent: null,
      deviceName: null,
      deviceType: null,
      deviceId: null,
      data: null,
    }).then((inserted) => inserted.session);
  const cached = (s: { id: string; userId: string }): CachedSession => ({
    id: s.id, userId: s.userId, roles: [], accessExpiresAt: T0 + 3_600_000, expiresAt: T0 + 86_400_000,
    lastActivityAt: T0, authenticatedAt: T0, createdAt: T0, version: 1, uaFingerprint: '', network: '',
  });
  const revoke = (id: string) =>
    store.revoke({ id }, 'revoked', { now: new Date(now), activeSince: new Date(now - 86_400_000) });
  return {
    store, tier, channel, cache, open, cached, revoke, instance,
    /** The shared tier answers, and its channel is heard. */
    set usable(value: boolean) {
      tier.available = value;
      channel.healthy = value;
    },
    advance: (ms: number) => (now += ms),
  };
}

beforeEach(() => {
  vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
  vi.restoreAllMocks();
});

describe('SharedSessionCache', () => {
  it('reads through while the shared cache is usable', async () => {
    const t = await setup();
    const s = await t.open();
    await t.cache.set(s.accessHash, t.cached(s), 60);
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('after an outage, marks the sessions that ended meanwhile as revoked before it reads again', async () => {
    const t = await setup();
    const victim = await t.open();
    const bystander = await t.open('user-2');
    // Cached while all was well.
    t.tier.put(victim.accessHash, t.cached(victim));
    t.tier.put(bystander.accessHash, t.cached(bystander));
    t.advance(60_000);
    t.usable = false;
    expect(await t.cache.get(victim.accessHash)).toBeNull(); // outage noticed: a miss
    t.advance(1_000);
    await t.revoke(victim.id); // the cache could not be marked: still holds the live entry
    await t.cache.set(bystander.accessHash, t.cached(bystander), 60); // no fill during the outage
    t.advance(5_000);
    t.usable = true;
    // Back, but not trusted until reconciled.
    expect(await t.cache.get(bystander.accessHash)).toBeNull();
    await t.cache.settle();
    expect(await t.cache.get(victim.accessHash)).toBe(REVOKED);
    expect(await t.cache.get(bystander.accessHash)).toMatchObject({ id: bystander.id });
  });

  it('marks every end since the watermark, also those made before the outage began', async () => {
    const t = await setup();
    const victim = await t.open();
    t.tier.put(victim.accessHash, t.cached(victim));
    await t.revoke(victim.id);
    t.advance(5_000);
    t.usable = false;
    await t.cache.get(victim.accessHash);
    t.usable = true;
    await t.cache.settle();
    expect(await t.cache.get(victim.accessHash)).toBe(REVOKED);
  });

  it('keeps bypassing while the store cannot answer, and tries again a second later', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    t.usable = false;
    await t.cache.get(s.accessHash);
    t.usable = true;
    const revokedSince = vi.spyOn(t.store, 'revokedAccessSince').mockRejectedValueOnce(new Error('database down'));
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toBeNull();
    await t.cache.settle();
    expect(revokedSince).toHaveBeenCalledTimes(1); // not before the second is up
    t.advance(1_000);
    await t.cache.settle();
    expect(revokedSince).toHaveBeenCalledTimes(2);
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('never throws: a failing tier reads as UNAVAILABLE, a fill or invalidation is skipped, a revocation is kept and delivered later', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.failing = true;
    expect(await t.cache.get(s.accessHash)).toBe(UNAVAILABLE);
    await expect(t.cache.set(s.accessHash, t.cached(s), 60)).resolves.toBeUndefined();
    await expect(t.cache.forget(s.userId, [s.accessHash])).resolves.toBeUndefined();
    await expect(t.cache.deleteUser(s.userId)).resolves.toBeUndefined();
    await expect(t.cache.markRevoked(s.userId, [s.accessHash])).resolves.toBeUndefined();
    expect(t.cache.pendingRevocations).toBe(1);
    // Answered as revoked here until the tier takes the mark.
    expect(t.cache.peek(s.accessHash)).toBe(REVOKED);
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
    t.tier.failing = false;
    t.channel.published.length = 0;
    await t.cache.settle();
    expect(t.cache.pendingRevocations).toBe(0);
    expect(t.tier.peekEntry(s.accessHash)).toBe(REVOKED);
    // Instances that kept a copy meanwhile are told again once the mark lands.
    expect(t.channel.published).toEqual([{ hashes: [s.accessHash] }]);
  });

  it('keeps what it read in process, and answers from there without the tier', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    expect(t.cache.peek(s.accessHash)).toBeUndefined();
    await t.cache.get(s.accessHash);
    t.tier.failing = true;
    expect(t.cache.peek(s.accessHash)).toMatchObject({ id: s.id });
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('does not keep a read that straddled an invalidation', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    const reading = t.cache.get(s.accessHash);
    await t.channel.publish({ hashes: [s.accessHash] }); // heard while the read was in flight
    await reading;
    expect(t.cache.peek(s.accessHash)).toBeUndefined();
  });

  it('never keeps a read in flight over its own revocation, before its own invalidation comes back', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    t.channel.late = true; // its own invalidation comes back one hop after the revocation returns
    const reading = t.cache.get(s.accessHash); // reads the tier before the mark lands there
    const revoking = t.cache.markRevoked(s.userId, [s.accessHash]);
    expect(await reading).toMatchObject({ id: s.id }); // it began before the revocation
    await revoking;
    expect(t.tier.peekEntry(s.accessHash)).toBe(REVOKED);
    // Answered: refused here at once, not only once the invalidation is back.
    expect(t.cache.peek(s.accessHash)).toBe(REVOKED);
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
    t.channel.deliver();
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
  });

  it('falls out of sync the moment its channel stops being heard, even when it is heard again before anything asks', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
    const markRevoked = vi.spyOn(t.tier, 'markRevoked').mockRejectedValue(new Error('OOM command not allowed when used memory > maxmemory'));
    t.channel.healthy = false; // its subscription dropped...
    await t.revoke(s.id); // ...while another instance ended the session and said its mark did not land (lost to this one)
    t.channel.healthy = true; // back a few hundred ms later; no request, no round meanwhile
    // Redis still holds the live entry: the store answers until a catch-up has marked every end.
    expect(await t.cache.get(s.accessHash)).toBeNull();
    await t.cache.settle(); // the catch-up's mark is refused too: still out of sync
    expect(await t.cache.get(s.accessHash)).toBeNull();
    markRevoked.mockRestore(); // memory freed
    t.advance(1_000);
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
  });

  it('while the tier refuses a mark, says so again at each retry until its word has reached the channel', async () => {
    const t = await setup();
    const other = t.instance();
    await other.start({ store: t.store });
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    expect(await other.get(s.accessHash)).toMatchObject({ id: s.id });
    const markRevoked = vi.spyOn(t.tier, 'markRevoked').mockRejectedValue(new Error('OOM command not allowed when used memory > maxmemory'));
    vi.spyOn(t.channel, 'publish').mockRejectedValueOnce(new Error('Connection is closed.'));
    await t.cache.markRevoked(s.userId, [s.accessHash]); // the mark refused, and the word saying so lost
    expect(t.channel.published).toEqual([]);
    expect(other.peek(s.accessHash)).toMatchObject({ id: s.id }); // the other heard nothing
    await t.cache.settle(); // refused again: this time the word goes out, and the other adopts the mark
    expect(t.channel.published).toEqual([{ hashes: [s.accessHash], userId: s.userId, unmarked: true }]);
    expect(other.peek(s.accessHash)).toBe(REVOKED);
    expect(await other.get(s.accessHash)).toBe(REVOKED);
    await t.cache.settle(); // refused again, but every instance heard it (or lost its subscription): not repeated
    expect(t.channel.published).toHaveLength(1);
    markRevoked.mockRestore();
    await t.cache.settle();
    expect(t.tier.peekEntry(s.accessHash)).toBe(REVOKED);
    expect(t.channel.published.at(-1)).toEqual({ hashes: [s.accessHash] });
  });

  it('drops every copy it holds when the channel stops being heard, and reads nothing until it is heard again and reconciled', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    await t.cache.get(s.accessHash);
    t.channel.healthy = false;
    expect(t.cache.peek(s.accessHash)).toBeUndefined();
    expect(await t.cache.get(s.accessHash)).toBeNull();
    t.channel.healthy = true;
    expect(await t.cache.get(s.accessHash)).toBeNull();
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('tells every instance about a revocation, an invalidation and a whole user', async () => {
    const t = await setup();
    await t.cache.markRevoked('u', ['h1']);
    await t.cache.forget('u', ['h2']);
    await t.cache.deleteUser('u');
    expect(t.channel.published).toEqual([{ hashes: ['h1'] }, { hashes: ['h2'] }, { userId: 'u' }]);
  });

  it('after an outage, also marks the access token a rotation replaced meanwhile', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    t.usable = false;
    await t.cache.get(s.accessHash);
    t.advance(1_000);
    const rotated = await t.store.rotate(
      s.refreshHash,
      { accessHash: randomUUID(), refreshHash: randomUUID(), accessExpiresAt: new Date(T0 + 3_600_000), expiresAt: new Date(T0 + 86_400_000), rotationSecret: randomUUID() },
      { now: new Date(T0 + 1_000), activeSince: new Date(T0 - 86_400_000) },
    );
    expect(rotated?.replacedAccessHash).toBe(s.accessHash);
    t.usable = true;
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
  });

  it('starts a new epoch on a tier that lost its watermark: what it still holds reads as a miss', async () => {
    const t = await setup();
    const s = await t.open();
    const epoch = t.tier.mark!.epoch;
    t.tier.put(s.accessHash, t.cached(s));
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
    t.tier.restart({ entries: t.tier.snapshot().entries, mark: null }); // the watermark evicted, say
    await t.cache.settle();
    expect(t.tier.mark!.epoch).not.toBe(epoch);
    expect(await t.cache.get(s.accessHash)).toBeNull();
    await t.cache.set(s.accessHash, t.cached(s), 60); // filled again, from the store
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('refuses a session revoked after the snapshot the tier was restored from', async () => {
    const t = await setup();
    const s = await t.open();
    await t.cache.set(s.accessHash, t.cached(s), 60);
    const snapshot = t.tier.snapshot();
    t.advance(10_000);
    await t.revoke(s.id);
    await t.cache.markRevoked(s.userId, [s.accessHash]);
    t.advance(10_000);
    await t.cache.reconcileNow();
    t.tier.restart(snapshot); // the live entry is back, and the watermark from before the logout
    expect(t.tier.peekEntry(s.accessHash)).toMatchObject({ id: s.id });
    expect(await t.cache.get(s.accessHash)).toBeNull();
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
  });

  it('notices a watermark that went back even without a reconnect, and catches up', async () => {
    const t = await setup({ watchMs: 10 });
    const s = await t.open();
    await t.cache.set(s.accessHash, t.cached(s), 60);
    const before = t.tier.snapshot();
    t.advance(10_000);
    await t.revoke(s.id);
    await t.cache.reconcileNow(); // marks it, and moves the watermark past the revocation
    await new Promise((resolve) => setTimeout(resolve, 50)); // the watch has seen the new watermark
    t.tier.entries = before.entries; // a failover to a replica that lagged, behind one address
    t.tier.mark = before.mark;
    expect(t.tier.peekEntry(s.accessHash)).toMatchObject({ id: s.id });
    // Within a watch interval it notices, and marks again every end since the older watermark.
    await vi.waitFor(() => expect(t.tier.peekEntry(s.accessHash)).toBe(REVOKED));
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
  });

  it('forgets a read that straddled a reconnect', async () => {
    const t = await setup();
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    const reading = t.cache.get(s.accessHash);
    t.tier.restart(t.tier.snapshot());
    expect(await reading).toBeNull();
  });

  it('a round marks an end no instance could mark, tells every instance, and moves the watermark forward', async () => {
    const t = await setup();
    const other = t.instance();
    await other.start({ store: t.store });
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    expect(await other.get(s.accessHash)).toMatchObject({ id: s.id }); // kept in its process too
    t.advance(10_000);
    await t.revoke(s.id); // its instance died before it could mark the cache
    t.advance(1_000);
    expect(await t.cache.reconcileNow()).toBe(1);
    expect(t.tier.peekEntry(s.accessHash)).toBe(REVOKED);
    expect(other.peek(s.accessHash)).toBeUndefined();
    expect(await other.get(s.accessHash)).toBe(REVOKED);
    expect(t.tier.mark!.mark).toBe(T0 + 11_000 - RECONCILE_MARGIN_MS);
  });

  it('runs one round per interval across instances (a lease)', async () => {
    const t = await setup();
    const other = t.instance();
    await other.start({ store: t.store });
    expect(await t.cache.reconcileNow()).toBe(0);
    expect(await other.reconcileNow()).toBeNull();
    t.advance(5_000);
    expect(await other.reconcileNow()).toBe(0);
  });

  it('with reconciliation switched off, a catch-up marks nothing (what the fault tests show it prevents)', async () => {
    const t = await setup({ reconcile: false });
    const s = await t.open();
    t.tier.put(s.accessHash, t.cached(s));
    t.usable = false;
    await t.cache.get(s.accessHash);
    await t.revoke(s.id);
    t.usable = true;
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('marks again, in every round that reads its end, a mark the tier lost without a sign', async () => {
    const t = await setup({ watchMs: 10 });
    const s = await t.open();
    await t.cache.set(s.accessHash, t.cached(s), 60);
    t.advance(20_000);
    const replica = t.tier.snapshot(); // a replica that stops receiving here
    await t.revoke(s.id);
    await t.cache.markRevoked(s.userId, [s.accessHash]);
    t.advance(1_500);
    expect(await t.cache.reconcileNow()).toBe(1);
    // A failover to the replica behind a proxy that keeps the connection: no reconnect, and the
    // replica's watermark is one this instance saw.
    t.tier.entries = replica.entries;
    t.tier.mark = replica.mark;
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.advance(4_000);
    await t.cache.reconcileNow();
    expect(t.tier.peekEntry(s.accessHash)).toBe(REVOKED);
  });

  it('when the tier refuses a mark but still serves reads (out of memory), every instance answers revoked and delivers the mark', async () => {
    const t = await setup();
    const other = t.instance();
    await other.start({ store: t.store });
    const s = await t.open();
    await t.cache.set(s.accessHash, t.cached(s), 60);
    expect(await other.get(s.accessHash)).toMatchObject({ id: s.id });
    const markRevoked = vi.spyOn(t.tier, 'markRevoked').mockRejectedValue(new Error('OOM command not allowed when used memory > maxmemory'));
    await t.revoke(s.id);
    await t.cache.markRevoked(s.userId, [s.accessHash]);
    expect(t.tier.peekEntry(s.accessHash)).toMatchObject({ id: s.id }); // Redis still serves the live entry
    expect(other.peek(s.accessHash)).toBe(REVOKED);
    expect(await other.get(s.accessHash)).toBe(REVOKED);
    expect(other.pendingRevocations).toBe(1);
    markRevoked.mockRestore(); // memory freed
    await other.settle();
    expect(t.tier.peekEntry(s.accessHash)).toBe(REVOKED);
    expect(other.pendingRevocations).toBe(0);
  });

  it('keeps the watermark behind the tier’s clock, whatever an instance’s clock says', async () => {
    const t = await setup();
    const fast = new SharedSessionCache(t.tier, t.channel, { localTtlMs: 0, localEntries: 1, now: () => T0 + 30_000 });
    caches.push(fast);
    await fast.start({ store: t.store });
    t.advance(5_000);
    await fast.reconcileNow();
    expect(t.tier.mark!.mark).toBeLessThanOrEqual(T0 + 5_000 - RECONCILE_MARGIN_MS);
  });

  it('skips a fill of what the store said before its last fault, or too long ago', async () => {
    const t = await setup();
    const s = await t.open();
    const readAt = T0;
    t.advance(11_000); // a process frozen between its read and its write
    await t.cache.set(s.accessHash, t.cached(s), 60, readAt);
    expect(t.tier.peekEntry(s.accessHash)).toBeUndefined();
    const beforeFault = T0 + 11_000;
    t.advance(100);
    t.tier.restart(t.tier.snapshot()); // a reconnect: a fault
    await t.cache.settle();
    await t.cache.set(s.accessHash, t.cached(s), 60, beforeFault);
    expect(t.tier.peekEntry(s.accessHash)).toBeUndefined();
    t.advance(100);
    await t.cache.set(s.accessHash, t.cached(s), 60, T0 + 11_200);
    expect(t.tier.peekEntry(s.accessHash)).toMatchObject({ id: s.id });
  });
});
