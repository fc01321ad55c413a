import type { Cluster, Redis } from 'ioredis';
import type { AdapterLifecycle } from '../../ports/adapter-lifecycle.js';
import { BatchThrottlerStorage, type ThrottlerStorageRecord } from '../../ports/batch-throttler-storage.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { ConnectionUse, type SessionRedisConnection } from './redis-connection.js';

/**
 * One atomic round trip per hit (or per batch of hits): count them in a fixed window, and block
 * the key for `blockDuration` once the count passes the limit. KEYS[1] hits, KEYS[2] block marker,
 * both carrying the same `{hash tag}` so they live in one Redis Cluster slot; ARGV[4] the hits.
 * Returns { totalHits, hitsPttl, blocked (0/1), blockPttl }.
 */
const INCREMENT_SCRIPT = `
local blockPttl = redis.call('PTTL', KEYS[2])
if blockPttl > 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
  return { hits, redis.call('PTTL', KEYS[1]), 1, blockPttl }
end
local hits = redis.call('INCRBY', KEYS[1], ARGV[4])
local hitsPttl = redis.call('PTTL', KEYS[1])
if hitsPttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  hitsPttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return { hits, hitsPttl, 1, tonumber(ARGV[3]) }
end
return { hits, hitsPttl, 0, 0 }
`;

type IncrementReply = [number, number, number, number];

/** `@nestjs/throttler` storage in Redis, so limits hold across every instance. */
export class RedisThrottlerStorage extends BatchThrottlerStorage implements AdapterLifecycle {
  private readonly redis: Redis | Cluster;
  private readonly breaker: CircuitBreaker;
  private readonly use: ConnectionUse;

  constructor(
    connection: SessionRedisConnection,
    private readonly prefix: string,
  ) {
    super();
    this.use = new ConnectionUse(connection);
    this.redis = connection.client;
    this.breaker = connection.breaker;
    const redis = this.redis;
    if (!('throttleIncrementBy' in redis)) {
      redis.defineCommand('throttleIncrementBy', { numberOfKeys: 2, lua: INCREMENT_SCRIPT });
    }
  }

  start(): Promise<void> {
    return this.use.start();
  }

  close(): Promise<void> {
    return this.use.close();
  }

  async incrementBy(
    key: string,
    hits: number,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const base = `${this.prefix}rl:{${throttlerName}:${key}}`;
    const run = (this.redis as unknown as Record<string, (...args: unknown[]) => Promise<IncrementReply>>)
      .throttleIncrementBy;
    const [totalHits, hitsPttl, blocked, blockPttl] = await this.breaker.run(() =>
      run.call(
        this.redis,
        `${base}:hits`,
        `${base}:block`,
        Math.max(1, Math.ceil(ttl)),
        limit,
        Math.max(1, Math.ceil(blockDuration)),
        hits,
      ),
    );
    return {
      totalHits,
      timeToExpire: Math.max(0, Math.ceil(hitsPttl / 1000)),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.max(0, Math.ceil(blockPttl / 1000)),
    };
  }
}
