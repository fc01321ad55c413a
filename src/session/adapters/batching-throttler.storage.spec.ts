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

  it('starts a new window after the last one ends', async () => {
    const { make, advance } = setup();
    const storage = make();
    for (let i = 0; i < 3; i++) await storage.increment('ip', 1000, 100, 1000, 'default');
    await storage.sync();
    advance(1500);
    expect(await storage.increment('ip', 1000, 100, 1000, 'default')).toMatchObject({ totalHits: 1 });
  });

  it('keeps counting in process while the shared storage fails; an exact hit rejects (for the fallback)', async () => {
    const { shared, make } = setup();
    vi.spyOn(shared, 'incrementBy').mockRejectedValue(new Error('Redis down'));
    const storage = make();
    expect(await storage.increment('ip', MINUTE, 100, MINUTE, 'default')).toMatchObject({ totalHits: 1 });
    await storage.sync();
    expect(await storage.increment('ip', MINUTE, 100, MINUTE, 'default')).toMatchObject({ totalHits: 2 });
    await expect(storage.increment('ip', MINUTE, 5, MINUTE, 'login')).rejects.toThrow('Redis down');
  });
});
