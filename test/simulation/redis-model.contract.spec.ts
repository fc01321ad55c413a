import { Logger } from '@nestjs/common';
import { MemorySessionStore } from '../../src/session/adapters/memory/memory-session.store.js';
import { SharedSessionCache } from '../../src/session/adapters/shared-session.cache.js';
import { sessionCacheContract } from '../../src/session/testing.js';
import { breakerFor, HostNetwork, ModelChannel, ModelTier, RedisLink, RedisServer } from './redis-model.js';
import { Scheduler } from './scheduler.js';

/**
 * The model against the contract every cache adapter passes: `SharedSessionCache` over the Redis
 * model must behave as it does over real Redis (test/contract/session-cache.spec.ts). Real time
 * here, as the contract waits for a TTL; no fault.
 */
beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(true));

sessionCacheContract('SharedSessionCache on the Redis model', async () => {
  const redis = new RedisServer();
  const host = new HostNetwork();
  const scheduler = new Scheduler(1, { commandMs: 0, messageMs: 0, queryMs: 0 });
  const link = new RedisLink(redis, host, scheduler);
  const cache = new SharedSessionCache(new ModelTier(link, breakerFor(link)), new ModelChannel(link, new RedisLink(redis, host, scheduler), 'contract'), {
    localTtlMs: 10_000,
    localEntries: 1000,
  });
  await cache.start({ store: new MemorySessionStore() });
  // Trusted once it hears its own heartbeat and has reconciled (a fresh start counts as an outage).
  for (let i = 0; i < 100 && !cache.healthy; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(cache.healthy).toBe(true);
  return { cache, close: () => cache.close() };
});
