import type { Cluster, Redis } from 'ioredis';
import { CachedSession, SessionCache } from '../../ports/session-cache';
import { decodeCachedSession, encodeCachedSession } from './cached-session.codec';

/**
 * Sessions cached in Redis: one string key per access hash with a TTL, and one set per user
 * indexing that user's keys (its TTL follows the longest entry, so it cannot outgrow them).
 * Each command touches one key, so it runs unchanged on Redis Cluster.
 */
export class RedisSessionCache extends SessionCache {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {
    super();
  }

  async get(accessHash: string): Promise<CachedSession | null> {
    const text = await this.redis.get(this.sessionKey(accessHash));
    return text === null ? null : decodeCachedSession(text);
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const userKey = this.userKey(session.userId);
    await Promise.all([
      this.redis.set(this.sessionKey(accessHash), encodeCachedSession(session), 'EX', ttl),
      this.redis.sadd(userKey, accessHash),
    ]);
    // Only ever lengthen the index's TTL (GT), so it outlives every entry it lists.
    await this.redis.expire(userKey, ttl, 'GT');
    await this.redis.expire(userKey, ttl, 'NX');
  }

  async delete(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    await Promise.all([
      ...accessHashes.map((hash) => this.redis.del(this.sessionKey(hash))),
      this.redis.srem(this.userKey(userId), ...accessHashes),
    ]);
  }

  async deleteUser(userId: string): Promise<void> {
    const userKey = this.userKey(userId);
    const hashes = await this.redis.smembers(userKey);
    await Promise.all(hashes.map((hash) => this.redis.del(this.sessionKey(hash))));
    await this.redis.del(userKey);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  private sessionKey(accessHash: string): string {
    return `${this.prefix}s:${accessHash}`;
  }

  private userKey(userId: string): string {
    return `${this.prefix}u:${userId}`;
  }
}
