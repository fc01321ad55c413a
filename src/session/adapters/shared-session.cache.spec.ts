import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { MemorySessionCache } from './memory/memory-session.cache.js';
import { MemorySessionStore } from './memory/memory-session.store.js';
import { SharedSessionCache } from './shared-session.cache.js';
import type { InvalidationChannel, SharedSessionTier, TierLookup } from './shared-session-tier.js';
import { REVOKED, UNAVAILABLE, type CachedSession } from '../ports/session-cache.js';

const T0 = Date.UTC(2030, 0, 1);

/** A shared tier in memory that can be made unreachable (`available`) or failing (`failing`). */
class FakeTier implements SharedSessionTier {
  readonly backend = 'fake';
  available = true;
  failing = false;
  readonly entries = new MemorySessionCache(1000);
  private call<T>(run: () => Promise<T>): Promise<T> {
    return this.failing ? Promise.reject(new Error('tier down')) : run();
  }
  get(hash: string): Promise<TierLookup> {
    return this.call(async () => {
      const entry = (await this.entries.get(hash)) as CachedSession | typeof REVOKED | null;
      return entry === null ? null : { entry, ttlMs: 60_000 };
    });
  }
  set(hash: string, session: CachedSession, ttl: number) { return this.call(() => this.entries.set(hash, session, ttl)); }
  markRevoked(userId: string, hashes: readonly string[]) { return this.call(() => this.entries.markRevoked(userId, hashes)); }
  forget(userId: string, hashes: readonly string[]) { return this.call(() => this.entries.forget(userId, hashes)); }
  deleteUser(userId: string) { return this.call(() => this.entries.deleteUser(userId)); }
  async ping() { return !this.failing; }
}

/** A channel whose health the test sets; what is published reaches every listener (this instance included). */
class FakeChannel implements InvalidationChannel {
  private isHealthy = true;
  readonly published: Array<{ hashes?: string[]; userId?: string }> = [];
  private readonly listeners: Array<(i: { hashes?: string[]; userId?: string }) => void> = [];
  private readonly healthListeners: Array<(healthy: boolean) => void> = [];
  get healthy() { return this.isHealthy; }
  set healthy(value: boolean) {
    if (value !== this.isHealthy) for (const listener of this.healthListeners) listener(value);
    this.isHealthy = value;
  }
  async publish(invalidation: { hashes?: string[]; userId?: string }) {
    this.published.push(invalidation);
    for (const listener of this.listeners) listener(invalidation);
  }
  onInvalidation(handler: (i: { hashes?: string[]; userId?: string }) => void) { this.listeners.push(handler); }
  onHealthChange(handler: (healthy: boolean) => void) { this.healthListeners.push(handler); }
  async start() {}
  close() {}
}

function setup() {
  let now = T0;
  const store = new MemorySessionStore();
  const tier = new FakeTier();
  const channel = new FakeChannel();
  const cache = new SharedSessionCache(tier, channel, { localTtlMs: 10_000, localEntries: 100, now: () => now });
  void cache.start({ store });
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
    });
  const cached = (s: { id: string; userId: string }): CachedSession => ({
    id: s.id, userId: s.userId, roles: [], accessExpiresAt: T0 + 3_600_000, expiresAt: T0 + 86_400_000,
    lastActivityAt: T0, authenticatedAt: T0, createdAt: T0, version: 1, uaFingerprint: '', network: '',
  });
  const revoke = (id: string) =>
    store.revoke({ id }, 'revoked', { now: new Date(now), activeSince: new Date(now - 86_400_000) });
  return {
    store, tier, channel, cache, open, cached, revoke,
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
afterEach(() => vi.restoreAllMocks());

describe('SharedSessionCache', () => {
  it('reads through while the shared cache is usable', async () => {
    const t = setup();
    const s = await t.open();
    await t.cache.set(s.accessHash, t.cached(s), 60);
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('after an outage, marks the sessions that ended meanwhile as revoked before it reads again', async () => {
    const t = setup();
    const victim = await t.open();
    const bystander = await t.open('user-2');
    // Cached while all was well.
    await t.tier.entries.set(victim.accessHash, t.cached(victim), 60);
    await t.tier.entries.set(bystander.accessHash, t.cached(bystander), 60);
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

  it('also reconciles revocations made shortly before the outage was noticed', async () => {
    const t = setup();
    const victim = await t.open();
    await t.tier.entries.set(victim.accessHash, t.cached(victim), 60);
    await t.revoke(victim.id);
    t.advance(5_000);
    t.usable = false;
    await t.cache.get(victim.accessHash);
    t.usable = true;
    await t.cache.settle();
    expect(await t.cache.get(victim.accessHash)).toBe(REVOKED);
  });

  it('keeps bypassing while the store cannot answer, and tries again a second later', async () => {
    const t = setup();
    const s = await t.open();
    await t.tier.entries.set(s.accessHash, t.cached(s), 60);
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
    const t = setup();
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
    await t.cache.settle();
    expect(t.cache.pendingRevocations).toBe(0);
    expect(await t.tier.entries.get(s.accessHash)).toBe(REVOKED);
  });

  it('keeps what it read in process, and answers from there without the tier', async () => {
    const t = setup();
    const s = await t.open();
    await t.tier.entries.set(s.accessHash, t.cached(s), 60);
    expect(t.cache.peek(s.accessHash)).toBeUndefined();
    await t.cache.get(s.accessHash);
    t.tier.failing = true;
    expect(t.cache.peek(s.accessHash)).toMatchObject({ id: s.id });
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });

  it('does not keep a read that straddled an invalidation', async () => {
    const t = setup();
    const s = await t.open();
    await t.tier.entries.set(s.accessHash, t.cached(s), 60);
    const reading = t.cache.get(s.accessHash);
    await t.channel.publish({ hashes: [s.accessHash] }); // heard while the read was in flight
    await reading;
    expect(t.cache.peek(s.accessHash)).toBeUndefined();
  });

  it('drops every copy it holds when the channel stops being heard, and reads nothing until it is heard again and reconciled', async () => {
    const t = setup();
    const s = await t.open();
    await t.tier.entries.set(s.accessHash, t.cached(s), 60);
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
    const t = setup();
    await t.cache.markRevoked('u', ['h1']);
    await t.cache.forget('u', ['h2']);
    await t.cache.deleteUser('u');
    expect(t.channel.published).toEqual([{ hashes: ['h1'] }, { hashes: ['h2'] }, { userId: 'u' }]);
  });

  it('after an outage, also marks the access token a rotation replaced meanwhile', async () => {
    const t = setup();
    const s = await t.open();
    await t.tier.entries.set(s.accessHash, t.cached(s), 60);
    t.usable = false;
    await t.cache.get(s.accessHash);
    t.advance(1_000);
    const rotated = await t.store.rotate(
      s.refreshHash,
      { accessHash: randomUUID(), refreshHash: randomUUID(), accessExpiresAt: new Date(T0 + 3_600_000), expiresAt: new Date(T0 + 86_400_000) },
      { now: new Date(T0 + 1_000), activeSince: new Date(T0 - 86_400_000) },
    );
    expect(rotated?.replacedAccessHash).toBe(s.accessHash);
    t.usable = true;
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toBe(REVOKED);
  });
});
