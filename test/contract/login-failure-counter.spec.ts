import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryLoginFailureCounter } from '../../src/session/adapters/memory/memory-login-failure.counter';
import { RedisLoginFailureCounter } from '../../src/session/adapters/redis/redis-login-failure.counter';
import { blockSeconds, LoginFailurePolicy } from '../../src/session/ports/login-failure-counter';
import { loginFailureCounterContract } from '../../src/session/testing';
import { SessionRedisConnection } from '../../src/session/adapters/redis/redis-connection';
import { TEST_REDIS_URL } from '../support/test-env';

const policy: LoginFailurePolicy = { freeAttempts: 3, windowSeconds: 60, maxBlockSeconds: 8 };

describe('blockSeconds', () => {
  it('is 0 while free, then 1, 2, 4 … seconds, capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => blockSeconds(n, policy))).toEqual([0, 0, 0, 1, 2, 4, 8, 8, 8]);
  });
});

loginFailureCounterContract('memory', () => ({ counter: new MemoryLoginFailureCounter(), close: async () => undefined }));

const prefix = `lfc${randomBytes(3).toString('hex')}:`;
let redis: Redis;
loginFailureCounterContract('Redis', () => {
  redis = new Redis(TEST_REDIS_URL);
  return {
    counter: new RedisLoginFailureCounter(new SessionRedisConnection(redis), prefix),
    close: async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      expect(keys.every((k) => !k.includes('@'))).toBe(true);
      redis.disconnect();
    },
  };
});
