import { randomBytes, randomUUID } from 'node:crypto';
import { REVOKED } from '../ports/session-cache.js';
import type { CachedSession, SessionCache } from '../ports/session-cache.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a cache adapter hands the contract. Cases use fresh user ids and hashes, so no reset. */
export interface SessionCacheHarness {
  cache: SessionCache;
  close(): Promise<void>;
}


/** A token hash shaped like the real ones (SHA-256, base64url, 43 characters). */
export const tokenHash = (): string => randomBytes(32).toString('base64url');

/** A user id no other case (or run) uses. */
export const freshUserId = (): string => `user-${randomUUID()}`;

const TIMES = ['accessExpiresAt', 'expiresAt', 'lastActivityAt', 'authenticatedAt', 'createdAt'] as const;

/**
 * What the contract allows a cache to change: expiries, creation and authentication times may
 * come back rounded down to the whole second (never later than set); last activity, from which
 * idle expiry is judged, and everything else exactly as set.
 */
export function expectSameSession(got: unknown, want: CachedSession): void {
  expect(got).not.toBeNull();
  const session = got as CachedSession;
  for (const field of TIMES) {
    expect(session[field]).toBeLessThanOrEqual(want[field]);
    expect(want[field] - session[field]).toBeLessThan(field === 'lastActivityAt' ? 1 : 1000);
  }
  const strip = (s: CachedSession) => Object.fromEntries(Object.entries(s).filter(([k]) => !(TIMES as readonly string[]).includes(k)));
  expect(strip(session)).toEqual(strip(want));
}

/** A cached session with realistic epoch-millisecond times and distinct values in every field. */
export function cachedSession(overrides: Partial<CachedSession> = {}): CachedSession {
  const created = Date.UTC(2030, 0, 1, 12, 0, 0, 123);
  return {
    id: randomUUID(),
    userId: freshUserId(),
    roles: ['user', 'admin'],
    accessExpiresAt: created + 15 * 60_000 + 1,
    expiresAt: created + 30 * 86_400_000 + 2,
    lastActivityAt: created + 5_000 + 3,
    authenticatedAt: created - 7,
    createdAt: created,
    version: 42,
    uaFingerprint: 'Chrome/macOS',
    network: '203.0.113',
    ...overrides,
  };
}

/**
 * The behaviour every `SessionCache` adapter must have (see `src/session/ports/session-cache.ts`).
 * TTLs are real (the shortest allowed is one second), so the expiry case waits 1.2 s.
 */
export function sessionCacheContract(name: string, factory: () => Promise<SessionCacheHarness>): void {
  describe(`SessionCache contract: ${name}`, () => {
    let harness: SessionCacheHarness | undefined;
    let cache: SessionCache;

    beforeAll(async () => {
      harness = await factory();
      cache = harness.cache;
    });

    afterAll(async () => {
      await harness?.close();
    });

    it('get of an unknown hash is null', async () => {
      expect(await cache.get(tokenHash())).toBeNull();
    });

    it('set then get returns every field as it was set', async () => {
      const hash = tokenHash();
      const session = cachedSession();
      await cache.set(hash, session, 60);
      const got = await cache.get(hash);
      expectSameSession(got, session);
    });

    const roundTrips: Array<[string, Partial<CachedSession>]> = [
      ['no roles', { roles: [] }],
      ['one role', { roles: ['user'] }],
      ['many roles, version 1', { roles: ['a', 'b-c', 'd_e', 'f.g', 'ünï'], version: 1 }],
      ['no client binding data', { uaFingerprint: '', network: '' }],
      ['an IPv6 network and a spaced family', { uaFingerprint: 'Mobile Safari/iOS', network: '2001:db8:85a3' }],
      [
        'a large version and far-future times',
        { version: 2_147_483_647, accessExpiresAt: Date.UTC(2999, 11, 31), expiresAt: Date.UTC(2999, 11, 31, 1) },
      ],
      ['times at the epoch', { createdAt: 0, authenticatedAt: 0, lastActivityAt: 1 }],
    ];
    it.each(roundTrips)('round trips %s', async (_case, overrides) => {
      const hash = tokenHash();
      const session = cachedSession(overrides);
      await cache.set(hash, session, 60);
      expectSameSession(await cache.get(hash), session);
    });

    it('peek answers at once, and when it answers it agrees with get', async () => {
      const live = tokenHash();
      const revoked = tokenHash();
      const session = cachedSession();
      expect(cache.peek(tokenHash())).toBeUndefined();
      await cache.set(live, session, 60);
      await cache.get(live); // an in-process tier may keep what it read
      await cache.markRevoked(session.userId, [revoked]);
      const peeked = cache.peek(live);
      if (peeked !== undefined) expectSameSession(peeked, session);
      expect([undefined, REVOKED]).toContain(cache.peek(revoked));
    });

    it('set again replaces the entry', async () => {
      const hash = tokenHash();
      const first = cachedSession();
      await cache.set(hash, first, 60);
      const second = { ...first, roles: ['user'], lastActivityAt: first.lastActivityAt + 60_000, version: 43 };
      await cache.set(hash, second, 60);
      expectSameSession(await cache.get(hash), second);
    });

    it('keeps values, not references: later changes to the object set or got do not reach the cache', async () => {
      const hash = tokenHash();
      const session = cachedSession({ roles: ['user'] });
      const asSet = structuredClone(session);
      await cache.set(hash, session, 60);
      session.roles.push('admin-after-set');
      session.version = 999;
      const got = (await cache.get(hash)) as CachedSession;
      got.roles.push('admin-after-get');
      got.lastActivityAt = 0;
      expectSameSession(await cache.get(hash), asSet);
    });

    it('applies the TTL: an entry set for 1 s is gone after 1.2 s, a longer one stays', async () => {
      const userId = freshUserId();
      const short = tokenHash();
      const long = tokenHash();
      const shortSession = cachedSession({ userId });
      const longSession = cachedSession({ userId });
      await cache.set(short, shortSession, 1);
      await cache.set(long, longSession, 30);
      expectSameSession(await cache.get(short), shortSession);
      await sleep(1200);
      expect(await cache.get(short)).toBeNull();
      expectSameSession(await cache.get(long), longSession);
      // The user's index still covers the entry that lives on.
      await cache.deleteUser(userId);
      expect(await cache.get(long)).toBeNull();
    });

    it('markRevoked(userId, hashes) marks exactly those hashes revoked', async () => {
      const userId = freshUserId();
      const [a, b, c] = [tokenHash(), tokenHash(), tokenHash()];
      for (const hash of [a, b, c]) await cache.set(hash, cachedSession({ userId }), 60);
      await cache.markRevoked(userId, [a, b]);
      expect(await cache.get(a)).toBe(REVOKED);
      expect(await cache.get(b)).toBe(REVOKED);
      expect(await cache.get(c)).not.toBeNull();
    });

    it('a revocation mark wins over a later fill (a cache fill racing a revocation)', async () => {
      const userId = freshUserId();
      const hash = tokenHash();
      await cache.markRevoked(userId, [hash]);
      await cache.set(hash, cachedSession({ userId }), 60);
      expect(await cache.get(hash)).toBe(REVOKED);
    });

    it('forget(userId, hashes) drops entries without marking them: they can be cached again', async () => {
      const userId = freshUserId();
      const [a, b] = [tokenHash(), tokenHash()];
      for (const hash of [a, b]) await cache.set(hash, cachedSession({ userId }), 60);
      await cache.forget(userId, [a]);
      expect(await cache.get(a)).toBeNull();
      expect(await cache.get(b)).not.toBeNull();
      const again = cachedSession({ userId, version: 7 });
      await cache.set(a, again, 60);
      expectSameSession(await cache.get(a), again);
    });

    it('supersede drops the sessions, refuses a later fill of a lower version and takes one of the new version (a validation racing a role change)', async () => {
      const userId = freshUserId();
      const [a, b, kept] = [tokenHash(), tokenHash(), tokenHash()];
      const old = cachedSession({ userId, roles: ['admin'], version: 3 });
      for (const hash of [a, b, kept]) await cache.set(hash, old, 60);
      await cache.supersede(userId, [
        { accessHash: a, version: 4 },
        { accessHash: b, version: 4 },
      ]);
      expect(await cache.get(a)).toBeNull();
      expect(await cache.get(b)).toBeNull();
      expectSameSession(await cache.get(kept), old);
      // The validation that read version 3 before the change fills after it: refused.
      await cache.set(a, old, 60);
      expect(await cache.get(a)).toBeNull();
      const changed = { ...old, roles: ['user'], version: 4 };
      await cache.set(b, changed, 60);
      expectSameSession(await cache.get(b), changed);
      // Over the new version, an old fill is refused too.
      await cache.set(b, old, 60);
      expectSameSession(await cache.get(b), changed);
    });

    it('supersede leaves a revocation mark in place, and of no sessions is harmless', async () => {
      const userId = freshUserId();
      const hash = tokenHash();
      await cache.markRevoked(userId, [hash]);
      await cache.supersede(userId, [{ accessHash: hash, version: 9 }]);
      await cache.set(hash, cachedSession({ userId, version: 9 }), 60);
      expect(await cache.get(hash)).toBe(REVOKED);
      await expect(cache.supersede(userId, [])).resolves.toBeUndefined();
    });

    it('marking or forgetting no hashes, or hashes never cached, is harmless', async () => {
      const userId = freshUserId();
      const kept = tokenHash();
      const session = cachedSession({ userId });
      await cache.set(kept, session, 60);
      await expect(cache.markRevoked(userId, [])).resolves.toBeUndefined();
      await expect(cache.forget(userId, [])).resolves.toBeUndefined();
      await expect(cache.markRevoked(freshUserId(), [tokenHash()])).resolves.toBeUndefined();
      await expect(cache.forget(freshUserId(), [tokenHash()])).resolves.toBeUndefined();
      expectSameSession(await cache.get(kept), session);
    });

    it('deleteUser forgets every entry of that user and none of another', async () => {
      const alice = freshUserId();
      const bob = freshUserId();
      const aliceHashes = [tokenHash(), tokenHash(), tokenHash()];
      const bobHash = tokenHash();
      for (const hash of aliceHashes) await cache.set(hash, cachedSession({ userId: alice }), 60);
      const bobSession = cachedSession({ userId: bob });
      await cache.set(bobHash, bobSession, 60);

      await cache.deleteUser(alice);
      for (const hash of aliceHashes) expect(await cache.get(hash)).toBeNull();
      expectSameSession(await cache.get(bobHash), bobSession);
      await expect(cache.deleteUser(freshUserId())).resolves.toBeUndefined();
    });

    it('deleteUser still works after some of the user’s entries were deleted or replaced', async () => {
      const userId = freshUserId();
      const [a, b, c] = [tokenHash(), tokenHash(), tokenHash()];
      for (const hash of [a, b]) await cache.set(hash, cachedSession({ userId }), 60);
      await cache.forget(userId, [a]);
      await cache.set(b, cachedSession({ userId, version: 50 }), 60);
      await cache.set(c, cachedSession({ userId }), 60);
      // `a` comes back after being forgotten: it must be indexed again.
      await cache.set(a, cachedSession({ userId }), 60);
      await cache.deleteUser(userId);
      for (const hash of [a, b, c]) expect(await cache.get(hash)).toBeNull();
    });

    it('a user can be cached again after deleteUser', async () => {
      const userId = freshUserId();
      await cache.set(tokenHash(), cachedSession({ userId }), 60);
      await cache.deleteUser(userId);
      const hash = tokenHash();
      const session = cachedSession({ userId });
      await cache.set(hash, session, 60);
      expectSameSession(await cache.get(hash), session);
      await cache.deleteUser(userId);
      expect(await cache.get(hash)).toBeNull();
    });

    it('ping answers true', async () => {
      expect(await cache.ping()).toBe(true);
    });
  });
}
