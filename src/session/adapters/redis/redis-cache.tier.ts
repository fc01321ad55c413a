import type { Cluster, Redis } from 'ioredis';
import { CachedSession, REVOKED } from '../../ports/session-cache.js';
import type { SharedSessionTier, TierLookup } from '../shared-session-tier.js';
import { decodeCachedSession, encodeCachedSession } from './cached-session.codec.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { ConnectionUse, type SessionRedisConnection } from './redis-connection.js';

const TOMBSTONE = '!';

/**
 * The Redis key of a cached session: the first 22 characters (128 bits) of its access-token hash,
 * enough to never collide, and 21 bytes less per session than the whole hash.
 */
export function sessionCacheKey(prefix: string, accessHash: string): string {
  return `${prefix}s:${shortHash(accessHash)}`;
}

/** What the key and the user's index carry of an access hash. */
const shortHash = (accessHash: string) => accessHash.slice(0, 22);

/** Sets a session unless its key holds a revocation mark: a late fill cannot undo a revocation. */
const SET_UNLESS_REVOKED = `
if redis.call('GET', KEYS[1]) == '${TOMBSTONE}' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`;

/** A key's value and how many milliseconds it has left, in one round trip (one key: Cluster-safe). */
const GET_WITH_TTL = `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
return { value, redis.call('PTTL', KEYS[1]) }
`;

/**
 * The Redis tier of `SharedSessionCache`: one string key per access hash with a TTL (or a
 * revocation mark), and one set per user indexing that user's keys (its TTL follows the longest
 * entry, so it cannot outgrow them). Each command touches one key, so it runs unchanged on Redis
 * Cluster. Every call goes through the connection's circuit breaker, so a dead or frozen Redis
 * fails fast; failures reject (the cache above decides what they mean).
 */
export class RedisCacheTier implements SharedSessionTier {
  private readonly redis: Redis | Cluster;
  private readonly breaker: CircuitBreaker;
  private readonly use: ConnectionUse;

  constructor(
    connection: SessionRedisConnection,
    private readonly prefix: string,
    /** Seconds a revocation mark lasts: longer than any cache fill can be in flight. */
    private readonly tombstoneSeconds = 300,
  ) {
    this.use = new ConnectionUse(connection);
    this.redis = connection.client;
    this.breaker = connection.breaker;
    const redis = this.redis;
    if (!('setUnlessRevoked' in redis)) {
      redis.defineCommand('setUnlessRevoked', { numberOfKeys: 1, lua: SET_UNLESS_REVOKED });
    }
    if (!('getWithTtl' in redis)) {
      redis.defineCommand('getWithTtl', { numberOfKeys: 1, lua: GET_WITH_TTL });
    }
  }

  readonly backend = 'redis';

  /** False while the circuit breaker keeps requests off Redis. */
  get available(): boolean {
    return !this.breaker.isOpen;
  }

  start(): Promise<void> {
    return this.use.start();
  }

  close(): Promise<void> {
    return this.use.close();
  }

  async get(accessHash: string): Promise<TierLookup> {
    const getWithTtl = (this.redis as unknown as Record<string, (key: string) => Promise<[string, number] | null>>).getWithTtl;
    const reply = await this.breaker.run(() => getWithTtl.call(this.redis, this.sessionKey(accessHash)));
    if (reply === null) return null;
    const [text, ttlMs] = reply;
    const entry = text === TOMBSTONE ? REVOKED : decodeCachedSession(text);
    return entry === null ? null : { entry, ttlMs: ttlMs > 0 ? ttlMs : 0 };
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const userKey = this.userKey(session.userId);
    const setUnlessRevoked = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number>>).setUnlessRevoked;
    await this.breaker.run(async () => {
      const stored = await setUnlessRevoked.call(this.redis, this.sessionKey(accessHash), encodeCachedSession(session), ttl);
      if (stored !== 1) return;
      await this.redis.sadd(userKey, shortHash(accessHash));
      // Only ever lengthen the index's TTL, so it outlives every entry it lists.
      await this.redis.expire(userKey, ttl, 'GT');
      await this.redis.expire(userKey, ttl, 'NX');
    });
  }

  async markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        ...accessHashes.map((hash) => this.redis.set(this.sessionKey(hash), TOMBSTONE, 'EX', this.tombstoneSeconds)),
        this.redis.srem(this.userKey(userId), ...accessHashes.map(shortHash)),
      ]),
    );
  }

  async forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        ...accessHashes.map((hash) => this.redis.del(this.sessionKey(hash))),
        this.redis.srem(this.userKey(userId), ...accessHashes.map(shortHash)),
      ]),
    );
  }

  async deleteUser(userId: string): Promise<void> {
    const userKey = this.userKey(userId);
    await this.breaker.run(async () => {
      const members = await this.redis.smembers(userKey);
      await Promise.all(members.map((member) => this.redis.del(`${this.prefix}s:${member}`)));
      await this.redis.del(userKey);
    });
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  private sessionKey(accessHash: string): string {
    return sessionCacheKey(this.prefix, accessHash);
  }

  private userKey(userId: string): string {
    return `${this.prefix}u:${userId}`;
  }
}
