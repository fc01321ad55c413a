import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemorySessionCache } from '../../src/session/adapters/memory/memory-session.cache';
import { RedisCacheTier, sessionCacheKey } from '../../src/session/adapters/redis/redis-cache.tier';
import { redisSessionAdapters, MemorySessionStore } from '../../src/session';
import type { SharedSessionCache } from '../../src/session/adapters/shared-session.cache';
import { hashToken, mintToken } from '../../src/session/tokens';
import { TEST_REDIS_URL } from '../support/test-env';
import { cachedSession, freshUserId, tokenHash } from '../../src/session/contracts/session-cache.contract';
import type { CachedSession } from '../../src/session/ports/session-cache';
import { sessionCacheContract } from '../../src/session/testing';
import { SessionRedisConnection } from '../../src/session/adapters/redis/redis-connection';
import { PrivateRedis } from '../support/private-redis';
import { sleep } from '../support/timing';


/** Every key under `prefix` (SCAN, never KEYS). */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return [...new Set(keys)];
}

/** Deletes this run's keys only (never FLUSHDB: the database is shared). */
async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  if (keys.length > 0) await redis.del(...keys);
}

sessionCacheContract('memory', async () => ({
  cache: new MemorySessionCache(1000),
  close: async () => undefined,
}));

describe('MemorySessionCache', () => {
  it('holds at most maxEntries, forgetting the least recently used', async () => {
    const cache = new MemorySessionCache(2);
    const userId = freshUserId();
    const [a, b, c] = [tokenHash(), tokenHash(), tokenHash()];
    for (const hash of [a, b, c]) await cache.set(hash, cachedSession({ userId }), 60);
    expect(await cache.get(a)).toBeNull();
    expect(await cache.get(b)).not.toBeNull();
    expect(await cache.get(c)).not.toBeNull();
    await cache.deleteUser(userId);
    expect(await cache.get(b)).toBeNull();
    expect(await cache.get(c)).toBeNull();
  });
});

/** A key prefix of this run's own, so parallel runs and the e2e suites never meet. */
const prefix = `contract:${randomBytes(6).toString('hex')}:`;
const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });

afterAll(async () => {
  await deleteUnder(redis, prefix);
  await redis.quit();
});

sessionCacheContract('Redis (SharedSessionCache: in-process tier, pub/sub, Redis)', async () => {
  const cache = redisSessionAdapters(redis, { keyPrefix: prefix }).cache as SharedSessionCache;
  await cache.start({ store: new MemorySessionStore() });
  // Trusted once it hears its own heartbeat and has reconciled (a fresh start counts as an outage).
  for (let i = 0; i < 100 && !cache.healthy; i++) await sleep(20);
  return {
    cache,
    close: async () => {
      await cache.close();
      await deleteUnder(redis, prefix);
    },
  };
});

/** Redis's own clock (`TIME`), in epoch milliseconds. */
async function redisNow(client: Redis): Promise<number> {
  const [seconds, micros] = await client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** A fill in `epoch`, sent at once after its read (`SharedSessionCache` gives it 20 s to reach Redis). */
const fill = (tier: RedisCacheTier, hash: string, session: CachedSession, ttlSeconds: number, epoch = 'e1') =>
  tier.set(hash, session, ttlSeconds, epoch, Date.now() + 20_000);

describe('RedisCacheTier storage', () => {
  // Its own keys, with a watermark of epoch `e1`: a fill is written only in the watermark's epoch.
  const tierPrefix = `${prefix}t:`;
  const cache = new RedisCacheTier(new SessionRedisConnection(redis), tierPrefix);
  beforeAll(() => cache.createWatermark({ epoch: 'e1', mark: 0 }, 0));

  it('keeps no raw token: keys and values hold the hash only', async () => {
    const rawToken = mintToken('access', ['contract-test-secret-0123456789abcdef']);
    const hash = hashToken(rawToken);
    const session = cachedSession();
    await fill(cache, hash, session, 60);

    const keys = (await keysUnder(redis, prefix)).filter(
      (key) => key === sessionCacheKey(tierPrefix, hash) || key.includes(session.userId),
    );
    expect(keys.length).toBeGreaterThan(0);
    expect(keys).toContain(sessionCacheKey(tierPrefix, hash));
    const rawBody = rawToken.slice(3);
    for (const key of keys) {
      expect(key).not.toContain(rawBody);
      const type = await redis.type(key);
      const values = type === 'string' ? [(await redis.get(key))!] : type === 'set' ? await redis.smembers(key) : [];
      expect(values.length).toBeGreaterThan(0);
      for (const value of values) expect(value).not.toContain(rawBody);
    }
  });

  it('stores a session compactly (MEMORY USAGE of its key at most 200 bytes, with a prefix as short as the default)', async () => {
    const shortPrefix = `${randomBytes(2).toString('hex')}:`; // 4 characters and a colon (the default `nsm:` is shorter)
    const compact = new RedisCacheTier(new SessionRedisConnection(redis), shortPrefix);
    const hash = tokenHash();
    const userId = randomUUID();
    const sessionKey = sessionCacheKey(shortPrefix, hash);
    try {
      await compact.createWatermark({ epoch: 'e1', mark: 0 }, 0);
      await fill(compact, hash, cachedSession({ roles: ['user'], userId, uaFingerprint: 'AbCd-_12' }), 60);
      expect(await redis.type(sessionKey)).toBe('string');
      const bytes = Number(await redis.call('MEMORY', 'USAGE', sessionKey));
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThanOrEqual(200);
    } finally {
      await redis.del(sessionKey, `${shortPrefix}u:${userId}`, `${shortPrefix}w`);
    }
  });

  it('gives every key it writes a TTL, and the user index ends with the user’s last entry', async () => {
    const userId = freshUserId();
    await fill(cache, tokenHash(), cachedSession({ userId }), 1);
    await fill(cache, tokenHash(), cachedSession({ userId }), 30);
    const longUser = freshUserId();
    await fill(cache, tokenHash(), cachedSession({ userId: longUser }), 30);
    await fill(cache, tokenHash(), cachedSession({ userId: longUser }), 1);
    // No key without an expiry (-1), and none longer than the longest TTL any case sets (60 s);
    // the watermark alone never expires (a tier that lost it starts a new epoch).
    for (const key of (await keysUnder(redis, prefix)).filter((k) => k !== `${tierPrefix}w`)) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    // The index outlives the shorter entry (its TTL only grows)...
    const indexKeys = (await keysUnder(redis, prefix)).filter((key) => key.includes(longUser));
    expect(indexKeys).toHaveLength(1);
    expect(await redis.pttl(indexKeys[0])).toBeGreaterThan(2_000);

    // ...and a user whose only entry expired leaves nothing behind.
    const shortUser = freshUserId();
    await fill(cache, tokenHash(), cachedSession({ userId: shortUser }), 1);
    await sleep(1200);
    expect((await keysUnder(redis, prefix)).filter((key) => key.includes(shortUser))).toEqual([]);
  });

  it('keeps one watermark: created once, moved only forward and only in its epoch', async () => {
    const tier = new RedisCacheTier(new SessionRedisConnection(redis), `${prefix}wm:`);
    expect(await tier.watermark()).toBeNull();
    expect(await tier.createWatermark({ epoch: 'first', mark: 1000 }, 0)).toEqual({ epoch: 'first', mark: 1000 });
    // A second instance creating one at the same time gets the first.
    expect(await tier.createWatermark({ epoch: 'second', mark: 2000 }, 0)).toEqual({ epoch: 'first', mark: 1000 });
    await tier.advanceWatermark('first', 5000, 0);
    await tier.advanceWatermark('first', 4000, 0); // a late round: never back
    await tier.advanceWatermark('second', 9000, 0); // another epoch's round: ignored
    expect(await tier.watermark()).toEqual({ epoch: 'first', mark: 5000 });
    expect(await redis.pttl(`${prefix}wm:w`)).toBe(-1);
  });

  it('never sets the watermark later than its own clock minus the margin (an instance whose clock runs fast)', async () => {
    const tier = new RedisCacheTier(new SessionRedisConnection(redis), `${prefix}clamp:`);
    const [seconds, micros] = await redis.time();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const created = await tier.createWatermark({ epoch: 'fast', mark: redisNow + 60_000 }, 10_000);
    expect(created.mark).toBeLessThanOrEqual(redisNow - 10_000 + 1000);
    await tier.advanceWatermark('fast', redisNow + 120_000, 10_000);
    const advanced = (await tier.watermark())!;
    expect(advanced.mark).toBeGreaterThanOrEqual(created.mark);
    expect(advanced.mark).toBeLessThanOrEqual(redisNow - 10_000 + 1000);
    expect(Number.isInteger(advanced.mark)).toBe(true);
  });

  it('gives a lease to one holder until it runs out', async () => {
    const tier = new RedisCacheTier(new SessionRedisConnection(redis), `${prefix}lease:`);
    expect(await tier.lease('job', 300)).toBe(true);
    expect(await tier.lease('job', 300)).toBe(false);
    await sleep(350);
    expect(await tier.lease('job', 300)).toBe(true);
  });

  it('reads an entry with the epoch it was filled in, and a revocation mark without one', async () => {
    const hash = tokenHash();
    await fill(cache, hash, cachedSession(), 60);
    expect(await cache.get(hash)).toMatchObject({ epoch: 'e1' });
    await cache.markRevoked('someone', [hash]);
    expect(await cache.get(hash)).toEqual({ entry: 'revoked', ttlMs: expect.any(Number) });
  });

  it('refuses a fill that reaches Redis after its deadline: one held in the network past the mark’s lifetime does not bring the session back', async () => {
    const brief = new RedisCacheTier(new SessionRedisConnection(redis), `${prefix}late:`, 1); // marks last 1 s
    await brief.createWatermark({ epoch: 'e1', mark: 0 }, 0);
    const hash = tokenHash();
    const session = cachedSession();
    const deadline = (await redisNow(redis)) + 500; // the fill's read, live, and its deadline
    await brief.markRevoked(session.userId, [hash]); // the logout, marked
    await sleep(1200); // the fill waits in the network; the mark expires
    expect(await brief.get(hash)).toBeNull();
    await brief.set(hash, session, 60, 'e1', deadline); // and lands
    expect(await brief.get(hash)).toBeNull();
    // Before its deadline (by Redis's clock) a fill is written.
    await brief.set(hash, session, 60, 'e1', (await redisNow(redis)) + 5000);
    expect(await brief.get(hash)).toMatchObject({ epoch: 'e1' });
  });

  it('writes a fill only in the watermark’s epoch: after FLUSHALL, a fill read before a logout does not bring the session back (private Redis)', async () => {
    const server = await PrivateRedis.create();
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const tier = new RedisCacheTier(new SessionRedisConnection(client), 'nsm:');
      await tier.createWatermark({ epoch: 'e1', mark: 0 }, 0);
      const hash = tokenHash();
      const session = cachedSession();
      await tier.markRevoked(session.userId, [hash]); // the logout; a fill that read it live is on its way
      await client.flushall(); // the mark and the watermark gone
      await fill(tier, hash, session, 60); // the fill lands
      expect(await tier.get(hash)).toBeNull();
      expect(await client.exists(sessionCacheKey('nsm:', hash))).toBe(0);
      // The instances catch up with a new epoch: a fill of the old one is still refused, of the new one written.
      await tier.createWatermark({ epoch: 'e2', mark: 0 }, 0);
      await fill(tier, hash, session, 60, 'e1');
      expect(await tier.get(hash)).toBeNull();
      await fill(tier, hash, session, 60, 'e2');
      expect(await tier.get(hash)).toMatchObject({ epoch: 'e2' });
    } finally {
      client.disconnect();
      await server.destroy();
    }
  });

  it('ping answers false when Redis cannot be reached', async () => {
    const down = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      expect(await new RedisCacheTier(new SessionRedisConnection(down), prefix).ping()).toBe(false);
    } finally {
      down.disconnect();
    }
  });
});
