import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { MemoryThrottlerStorage } from '../memory/memory-throttler.storage.js';
import { FallbackThrottlerStorage } from './fallback-throttler.storage.js';

beforeEach(() => {
  vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

describe('FallbackThrottlerStorage', () => {
  it('counting in process after Redis fails mid-window goes on from the last count Redis gave, not from zero', async () => {
    const redis = new MemoryThrottlerStorage(); // stands for Redis while it answers
    let failing = false;
    const primary: ThrottlerStorage = {
      increment: (...args: Parameters<ThrottlerStorage['increment']>) =>
        failing ? Promise.reject(new Error('Command timed out')) : redis.increment(...args),
    };
    const storage = new FallbackThrottlerStorage(primary, new MemoryThrottlerStorage());
    const hit = () => storage.increment('1.2.3.4', 60_000, 5, 60_000, 'login');
    for (let i = 1; i <= 3; i++) expect(await hit()).toMatchObject({ totalHits: i, isBlocked: false });
    failing = true; // a burst times out the commands
    expect(await hit()).toMatchObject({ totalHits: 4, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 5, isBlocked: false });
    expect(await hit()).toMatchObject({ isBlocked: true });
  });

  it('keeps a block Redis reported', async () => {
    let failing = false;
    const primary: ThrottlerStorage = {
      increment: () =>
        failing
          ? Promise.reject(new Error('Command timed out'))
          : Promise.resolve({ totalHits: 6, timeToExpire: 50, isBlocked: true, timeToBlockExpire: 40 }),
    };
    const storage = new FallbackThrottlerStorage(primary, new MemoryThrottlerStorage());
    await storage.increment('k', 60_000, 5, 60_000, 'login');
    failing = true;
    expect(await storage.increment('k', 60_000, 5, 60_000, 'login')).toMatchObject({ isBlocked: true });
  });

  it('keeps only the answers of the throttlers it is told can fall back', async () => {
    const fallback = new MemoryThrottlerStorage();
    const observe = vi.spyOn(fallback, 'observe');
    const primary: ThrottlerStorage = {
      increment: () => Promise.resolve({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 }),
    };
    const storage = new FallbackThrottlerStorage(primary, fallback, ['login']);
    await storage.increment('k', 60_000, 100, 60_000, 'default');
    expect(observe).not.toHaveBeenCalled();
    await storage.increment('k', 60_000, 5, 60_000, 'login');
    expect(observe).toHaveBeenCalledTimes(1);
  });
});
