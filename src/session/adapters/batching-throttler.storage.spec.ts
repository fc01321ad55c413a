import { Logger } from '@nestjs/common';
import type { ThrottlerStorageRecord } from '../ports/batch-throttler-storage.js';
import { BatchingThrottlerStorage } from './batching-throttler.storage.js';
import { MemoryThrottlerStorage } from './memory/memory-throttler.storage.js';

const MINUTE = 60_000;

function setup(options: { exact?: string[] } = {}) {
  let now = Date.UTC(2030, 0, 1);
  const clock = () => now;
  const shared = new MemoryThrottlerStorage(1000, clock);
  const sharedCalls = vi.spyOn(shared, 'incrementBy');
  const make = () => new BatchingThrottlerStorage(shared, { syncMs: 100, ...options }, clock);
  return { shared, sharedCalls, make, advance: (ms: number) => (now += ms) };
}

/**
 * A shared storage far away: it counts each call when called (as Redis does on arrival) but its
 * answer stays in flight until `deliver()`, in order — a batch or an exact call outstanding.
 */
class DistantStorage extends MemoryThrottlerStorage {
  private readonly inFlight: Array<() => void> = [];
  private readonly failures: Array<() => void> = [];
  calls = 0;

  override async incrementBy(...args: Parameters<MemoryThrottlerStorage['incrementBy']>): Promise<ThrottlerStorageRecord> {
    this.calls += 1;
    const record = await super.incrementBy(...args);
    return new Promise((resolve, reject) => {
      this.inFlight.push(() => resolve(record));
      this.failures.push(() => reject(new Error('Command timed out')));
    });
  }

  /** Every call in flight fails (a command timeout: counted there, but no answer), in order. */
  async failAll(): Promise<void> {
    for (const fail of this.failures.splice(0)) {
      this.inFlight.shift();
      fail();
      await flush();
    }
  }

  /** Delivers the oldest answer in flight, if any. */
  deliverOne(): void {
    this.failures.shift();
    this.inFlight.shift()?.();
  }

  /** Delivers the answers in flight, and those of the calls they lead to, until none is left. */
  async deliverAll(): Promise<void> {
    while (this.inFlight.length > 0) {
      this.failures.splice(0);
      for (const answer of this.inFlight.splice(0)) answer();
      await flush();
    }
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `count` hits of one key at once on `storage`, while `distant` holds every answer until all are in. */
async function burst(storage: BatchingThrottlerStorage, distant: DistantStorage, count: number, limit = 100) {
  const records = Array.from({ length: count }, () => storage.increment('ip', MINUTE, limit, MINUTE, 'default'));
  await flush();
  await distant.deliverAll();
  return (await Promise.all(records)).filter((r) => !r.isBlocked).length;
}

beforeEach(() => {
  vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

describe('BatchingThrottlerStorage', () => {
  it('counts a key far from its limit in process and sends its hits in one batch', async () => {
    const { shared, sharedCalls, make } = setup();
    const storage = make();
    for (let i = 1; i <= 4; i++) expect(await storage.increment('ip', MINUTE, 100, MINUTE, 'default')).toMatchObject({ totalHits: i, isBlocked: false });
    expect(sharedCalls).not.toHaveBeenCalled();
    await storage.sync();
    expect(sharedCalls).toHaveBeenCalledTimes(1);
    expect(sharedCalls.mock.calls[0].slice(0, 2)).toEqual(['ip', 4]);
    expect(await shared.increment('ip', MINUTE, 100, MINUTE, 'default')).toMatchObject({ totalHits: 5 });
  });

  it('goes to the shared storage on every hit past half the limit, and blocks as it says', async () => {
    const { sharedCalls, make } = setup();
    const storage = make();
    const records = [];
    for (let i = 0; i < 101; i++) records.push(await storage.increment('ip', MINUTE, 100, MINUTE, 'default'));
    expect(records.filter((r) => !r.isBlocked)).toHaveLength(100);
    expect(records[100]).toMatchObject({ totalHits: 101, isBlocked: true });
    // Past 50 every hit is a shared call; before that one per 5 unsent hits.
    expect(sharedCalls.mock.calls.length).toBeGreaterThanOrEqual(51);
    expect(sharedCalls.mock.calls.length).toBeLessThan(70);
    // Blocked: refused here without asking again.
    sharedCalls.mockClear();
    expect(await storage.increment('ip', MINUTE, 100, MINUTE, 'default')).toMatchObject({ isBlocked: true });
    expect(sharedCalls).not.toHaveBeenCalled();
  });

  it('sends every hit of an exact throttler, and of a small limit, to the shared storage', async () => {
    const { sharedCalls, make } = setup({ exact: ['login'] });
    const storage = make();
    await storage.increment('ip', MINUTE, 1000, MINUTE, 'login');
    await storage.increment('ip', MINUTE, 10, MINUTE, 'default');
    expect(sharedCalls).toHaveBeenCalledTimes(2);
  });

  it('two instances together admit at most a twentieth of the limit per instance beyond it', async () => {
    const { make } = setup();
    const a = make();
    const b = make();
    let admitted = 0;
    for (let round = 0; round < 40; round++) {
      for (const instance of [a, b]) {
        for (let i = 0; i < 5; i++) if (!(await instance.increment('ip', MINUTE, 200, MINUTE, 'default')).isBlocked) admitted += 1;
      }
      await Promise.all([a.sync(), b.sync()]);
    }
    expect(admitted).toBeGreaterThanOrEqual(200);
    expect(admitted).toBeLessThanOrEqual(200 + 2 * (200 / 20));
  });

  it.each([150, 300, 600])('one instance admits exactly the limit of a burst of %i while its calls are in flight', async (count) => {
    const distant = new DistantStorage();
    const storage = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    expect(await burst(storage, distant, count)).toBe(100);
    // Most of the burst was decided by the shared storage, but a key far from its limit still is not.
    expect(distant.calls).toBeLessThanOrEqual(count);
  });

  it('one instance admits at most the limit of hits that arrive while a batch is in flight', async () => {
    const distant = new DistantStorage();
    const storage = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    let admitted = 0;
    const records: Promise<ThrottlerStorageRecord>[] = [];
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 5; i++) records.push(storage.increment('ip', MINUTE, 100, MINUTE, 'default'));
      await flush();
      // A batch goes out and stays in flight while the next hits come in.
      void storage.sync();
      await flush();
    }
    await distant.deliverAll();
    for (const record of await Promise.all(records)) if (!record.isBlocked) admitted += 1;
    expect(admitted).toBe(100);
  });

  it('one instance admits at most the limit when answers come back a few at a time during the burst', async () => {
    const distant = new DistantStorage();
    const storage = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    const records: Promise<ThrottlerStorageRecord>[] = [];
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 4; i++) records.push(storage.increment('ip', MINUTE, 100, MINUTE, 'default'));
      if (round % 7 === 0) void storage.sync();
      await flush();
      // Deliver only the oldest answer in flight now and then: some hits are answered, others still out.
      if (round % 4 === 0) await deliverOldest(distant);
    }
    await distant.deliverAll();
    expect((await Promise.all(records)).filter((r) => !r.isBlocked)).toHaveLength(100);
  });

  it('far from the limit, a hit costs no call to the shared storage: one batch carries them', async () => {
    const distant = new DistantStorage();
    const storage = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    for (let i = 0; i < 50; i++) await storage.increment(`ip-${i}`, MINUTE, 100, MINUTE, 'default');
    expect(distant.calls).toBe(0);
    void storage.sync();
    await flush();
    expect(distant.calls).toBe(50);
    await distant.deliverAll();
  });

  it('an instance that has not heard of the others admits at most a twentieth of the limit beyond it', async () => {
    const distant = new DistantStorage();
    const a = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    const b = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    // b has counted a few hits and heard the count, then a takes the rest of the window.
    expect(await burst(b, distant, 3)).toBe(3);
    void b.sync();
    await flush();
    await distant.deliverAll();
    expect(await burst(a, distant, 300)).toBe(97);
    // A burst on b, whose last answer said 3.
    expect(await burst(b, distant, 300)).toBeLessThanOrEqual(100 / 20);
  });

  it('bursts on two instances at once admit at most the limit and a twentieth of it per instance', async () => {
    const distant = new DistantStorage();
    const a = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    const b = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    const records: Promise<ThrottlerStorageRecord>[] = [];
    for (let round = 0; round < 100; round++) {
      for (const instance of [a, b]) for (let i = 0; i < 4; i++) records.push(instance.increment('ip', MINUTE, 100, MINUTE, 'default'));
      if (round % 5 === 0) void Promise.all([a.sync(), b.sync()]);
      await flush();
      if (round % 4 === 0) await deliverOldest(distant);
    }
    await distant.deliverAll();
    const admitted = (await Promise.all(records)).filter((r) => !r.isBlocked).length;
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(admitted).toBeLessThanOrEqual(100 + 2 * (100 / 20));
  });

  it('while the shared storage fails, a key near its limit is counted here against the whole limit', async () => {
    const { shared, make } = setup();
    const storage = make();
    for (let i = 0; i < 60; i++) await storage.increment('ip', MINUTE, 100, MINUTE, 'default');
    vi.spyOn(shared, 'incrementBy').mockRejectedValue(new Error('Redis down'));
    const records = [];
    for (let i = 0; i < 50; i++) records.push(await storage.increment('ip', MINUTE, 100, MINUTE, 'default'));
    expect(records.filter((r) => !r.isBlocked)).toHaveLength(40);
    expect(records[40]).toMatchObject({ totalHits: 101, isBlocked: true });
  });

  it('a burst whose calls all time out still lets through at most the limit, and no fewer', async () => {
    const distant = new DistantStorage();
    const storage = new BatchingThrottlerStorage(distant, { syncMs: 100 });
    const records = Array.from({ length: 300 }, () => storage.increment('ip', MINUTE, 100, MINUTE, 'default'));
    await flush();
    await distant.failAll();
    expect((await Promise.all(records)).filter((r) => !r.isBlocked)).toHaveLength(100);
  });

  it('starts a new window after the last one ends', async () => {
    const { make, advance } = setup();
    const storage = make();
    for (let i = 0; i < 3; i++) await storage.increment('ip', 1000, 100, 1000, 'default');
    await storage.sync();
    advance(1500);
    expect(await storage.increment('ip', 1000, 100, 1000, 'default')).toMatchObject({ totalHits: 1 });
  });

  it('keeps counting in process while the shared storage fails; an exact hit rejects (for the fallback)', async () => {
    const { shared, make } = setup({ exact: ['login'] });
    vi.spyOn(shared, 'incrementBy').mockRejectedValue(new Error('Redis down'));
    const storage = make();
    expect(await storage.increment('ip', MINUTE, 100, MINUTE, 'default')).toMatchObject({ totalHits: 1 });
    await storage.sync();
    expect(await storage.increment('ip', MINUTE, 100, MINUTE, 'default')).toMatchObject({ totalHits: 2 });
    await expect(storage.increment('ip', MINUTE, 5, MINUTE, 'login')).rejects.toThrow('Redis down');
  });
});

/** Delivers the oldest answer in flight, if any. */
async function deliverOldest(distant: DistantStorage): Promise<void> {
  distant.deliverOne();
  await flush();
}
