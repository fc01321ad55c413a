import { Redis } from 'ioredis';
import { throttlerStorageContract } from '../../src/session/testing';
import { SessionRedisConnection } from '../../src/session/adapters/redis/redis-connection';
import { randomBytes } from 'node:crypto';
import { BatchingThrottlerStorage } from '../../src/session/adapters/batching-throttler.storage';
import { MemoryThrottlerStorage } from '../../src/session/adapters/memory/memory-throttler.storage';
import { RedisThrottlerStorage } from '../../src/session/adapters/redis/redis-throttler.storage';
import { TEST_REDIS_URL } from '../support/test-env';

throttlerStorageContract('memory', () => ({ storage: new MemoryThrottlerStorage(), close: async () => undefined }));

throttlerStorageContract('batching in front of memory', () => ({
  storage: new BatchingThrottlerStorage(new MemoryThrottlerStorage(), { syncMs: 10 }),
  close: async () => undefined,
}));

throttlerStorageContract('Redis', () => {
  const redis = new Redis(TEST_REDIS_URL);
  return {
    storage: new RedisThrottlerStorage(new SessionRedisConnection(redis), `tc${randomBytes(3).toString('hex')}:`),
    close: async () => {
      await redis.quit();
    },
  };
});

throttlerStorageContract('batching in front of Redis', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const storage = new BatchingThrottlerStorage(
    new RedisThrottlerStorage(new SessionRedisConnection(redis), `tc${randomBytes(3).toString('hex')}:`),
    { syncMs: 10 },
  );
  return {
    storage,
    close: async () => {
      await storage.sync();
      await redis.quit();
    },
  };
});
