import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { MemorySessionCache } from './memory/memory-session.cache.js';
import { MemorySessionStore } from './memory/memory-session.store.js';
import { ReconcilingSessionCache } from './reconciling-session.cache.js';
import { REVOKED, type CachedSession } from '../ports/session-cache.js';

const T0 = Date.UTC(2030, 0, 1);

function setup() {
  let now = T0;
  let usable = true;
  const store = new MemorySessionStore();
  const inner = new MemorySessionCache(100);
  const cache = new ReconcilingSessionCache(inner, { store, sharedUsable: () => usable, now: () => now });
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
    store, inner, cache, open, cached, revoke,
    set usable(value: boolean) { usable = value; },
    advance: (ms: number) => (now += ms),
  };
}

beforeEach(() => {
  vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

describe('ReconcilingSessionCache', () => {
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
    await t.inner.set(victim.accessHash, t.cached(victim), 60);
    await t.inner.set(bystander.accessHash, t.cached(bystander), 60);
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
    await t.inner.set(victim.accessHash, t.cached(victim), 60);
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
    await t.inner.set(s.accessHash, t.cached(s), 60);
    t.usable = false;
    await t.cache.get(s.accessHash);
    t.usable = true;
    const endedSince = vi.spyOn(t.store, 'endedSince').mockRejectedValueOnce(new Error('database down'));
    await t.cache.settle();
    expect(await t.cache.get(s.accessHash)).toBeNull();
    await t.cache.settle();
    expect(endedSince).toHaveBeenCalledTimes(1); // not before the second is up
    t.advance(1_000);
    await t.cache.settle();
    expect(endedSince).toHaveBeenCalledTimes(2);
    expect(await t.cache.get(s.accessHash)).toMatchObject({ id: s.id });
  });
});
