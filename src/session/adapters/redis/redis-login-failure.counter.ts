import type { Cluster, Redis } from 'ioredis';
import type { AdapterLifecycle } from '../../ports/adapter-lifecycle.js';
import { LoginFailureCounter, LoginFailurePolicy } from '../../ports/login-failure-counter.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { ConnectionUse, type SessionRedisConnection } from './redis-connection.js';

/**
 * One atomic round trip per failure: count it, compute the delay (1, 2, 4 … s past the free
 * attempts, capped), store when the block ends, and keep the record for the window.
 * ARGV: now ms, free attempts, window ms, max block ms. Returns the block in ms.
 */
const FAIL_SCRIPT = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local free = tonumber(ARGV[2])
local block = 0
if count > free then
  block = math.min(2 ^ (count - free - 1) * 1000, tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'until', tonumber(ARGV[1]) + block)
end
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[3]), block))
return block
`;

/** Failed-login counts in Redis, shared by every instance. Keys carry a hash tag (Cluster-safe). */
export class RedisLoginFailureCounter extends LoginFailureCounter implements AdapterLifecycle {
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
    if (!('loginFail' in redis)) redis.defineCommand('loginFail', { numberOfKeys: 1, lua: FAIL_SCRIPT });
  }

  start(): Promise<void> {
    return this.use.start();
  }

  close(): Promise<void> {
    return this.use.close();
  }

  async blockedFor(key: string, nowMs: number): Promise<number> {
    const until = await this.breaker.run(() => this.redis.hget(this.key(key), 'until'));
    return until === null ? 0 : Math.max(0, Math.ceil((Number(until) - nowMs) / 1000));
  }

  /** One HMGET: the record's count (present while failures are remembered) and when its block ends. */
  override async check(key: string, nowMs: number): Promise<{ blockedFor: number; recorded: boolean }> {
    const [count, until] = await this.breaker.run(() => this.redis.hmget(this.key(key), 'count', 'until'));
    return { blockedFor: until === null ? 0 : Math.max(0, Math.ceil((Number(until) - nowMs) / 1000)), recorded: count !== null };
  }

  async fail(key: string, nowMs: number, policy: LoginFailurePolicy): Promise<number> {
    const run = (this.redis as unknown as Record<string, (...args: unknown[]) => Promise<number>>).loginFail;
    const blockMs = await this.breaker.run(() =>
      run.call(
        this.redis,
        this.key(key),
        nowMs,
        policy.freeAttempts,
        policy.windowSeconds * 1000,
        policy.maxBlockSeconds * 1000,
      ),
    );
    return Math.ceil(Number(blockMs) / 1000);
  }

  async reset(key: string): Promise<void> {
    await this.breaker.run(() => this.redis.del(this.key(key)));
  }

  private key(key: string): string {
    return `${this.prefix}lf:{${key}}`;
  }
}
