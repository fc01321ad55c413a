import type { ThrottlerStorage } from '@nestjs/throttler';
import { randomBytes } from 'node:crypto';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The fixed-window semantics both rate-limit storages share, so that a Redis outage (the
 * in-process fallback) or a Redis-less deployment counts as Redis would. Times are real: Redis
 * keeps its own clock.
 */
export function throttlerStorageContract(name: string, make: () => { storage: ThrottlerStorage; close(): Promise<void> }) {
  describe(`ThrottlerStorage contract: ${name}`, () => {
    let storage: ThrottlerStorage;
    let close: () => Promise<void>;
    const key = () => `ip-${randomBytes(6).toString('hex')}`;

    beforeAll(() => {
      ({ storage, close } = make());
    });
    afterAll(() => close());

    it('counts the hits of a key within its window', async () => {
      const k = key();
      const records = [];
      for (let i = 0; i < 3; i++) records.push(await storage.increment(k, 60_000, 5, 30_000, 'default'));
      expect(records.map((r) => r.totalHits)).toEqual([1, 2, 3]);
      for (const r of records) expect(r).toMatchObject({ isBlocked: false, timeToBlockExpire: 0 });
      expect(records[2].timeToExpire).toBeGreaterThan(58);
      expect(records[2].timeToExpire).toBeLessThanOrEqual(60);
    });

    it('blocks a key past its limit for the block duration, without counting refused hits', async () => {
      const k = key();
      await storage.increment(k, 60_000, 2, 20_000, 'login');
      await storage.increment(k, 60_000, 2, 20_000, 'login');
      const over = await storage.increment(k, 60_000, 2, 20_000, 'login');
      expect(over).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 20 });
      const refused = await storage.increment(k, 60_000, 2, 20_000, 'login');
      expect(refused).toMatchObject({ totalHits: 3, isBlocked: true });
      expect(refused.timeToBlockExpire).toBeGreaterThan(18);
    });

    it('keeps keys and throttlers apart', async () => {
      const k = key();
      await storage.increment(k, 60_000, 1, 60_000, 'login');
      expect(await storage.increment(k, 60_000, 1, 60_000, 'login')).toMatchObject({ isBlocked: true });
      expect(await storage.increment(k, 60_000, 1, 60_000, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
      expect(await storage.increment(key(), 60_000, 1, 60_000, 'login')).toMatchObject({ totalHits: 1, isBlocked: false });
    });

    it('opens a new window once the last one and the block are over', async () => {
      const k = key();
      await storage.increment(k, 400, 1, 200, 'default');
      expect(await storage.increment(k, 400, 1, 200, 'default')).toMatchObject({ isBlocked: true });
      await sleep(500);
      expect(await storage.increment(k, 400, 1, 200, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
    });

    it('counts concurrent hits exactly once each', async () => {
      const k = key();
      const records = await Promise.all(Array.from({ length: 40 }, () => storage.increment(k, 60_000, 1000, 1000, 'default')));
      expect(records.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });

    it('counts a batch of hits as that many, blocking when it passes the limit', async () => {
      const k = key();
      expect(await storage.increment(k, 60_000, 10, 60_000, 'default')).toMatchObject({ totalHits: 1 });
      if (!('incrementBy' in storage)) return;
      const batch = storage as ThrottlerStorage & { incrementBy: (k: string, n: number, ttl: number, l: number, b: number, name: string) => Promise<{ totalHits: number; isBlocked: boolean }> };
      expect(await batch.incrementBy(k, 7, 60_000, 10, 60_000, 'default')).toMatchObject({ totalHits: 8, isBlocked: false });
      expect(await batch.incrementBy(k, 5, 60_000, 10, 60_000, 'default')).toMatchObject({ totalHits: 13, isBlocked: true });
    });

    it('lets exactly `limit` of a burst through', async () => {
      const k = key();
      const records = await Promise.all(Array.from({ length: 20 }, () => storage.increment(k, 60_000, 5, 60_000, 'login')));
      expect(records.filter((r) => !r.isBlocked)).toHaveLength(5);
    });

    it('lets exactly `limit` of a burst through at a limit high enough to be counted in batches', async () => {
      const k = key();
      const records = await Promise.all(Array.from({ length: 300 }, () => storage.increment(k, 60_000, 100, 60_000, 'default')));
      expect(records.filter((r) => !r.isBlocked)).toHaveLength(100);
    });
  });
}
