import { Gauge, Registry } from 'prom-client';
import type { CacheState, KeyMemorySample, ObservableSessionCache } from '../ports/cache-observation.js';
import { KEY_MEMORY_MAX_AGE_MS, registerCacheGauges } from './cache-gauges.js';

/** A cache whose state and memory the test sets, counting the samples taken. */
class FakeCache implements ObservableSessionCache {
  state: CacheState = { breakerOpen: false, inSync: true, pendingRevocations: 0, watermarkAt: null };
  memory: KeyMemorySample | null | Error = { keys: 40, bytes: 4000 };
  samples = 0;

  cacheState(): CacheState {
    return this.state;
  }

  async sampleKeyMemory(): Promise<KeyMemorySample | null> {
    this.samples += 1;
    if (this.memory instanceof Error) throw this.memory;
    return this.memory;
  }
}

function setup() {
  const registry = new Registry();
  const cache = new FakeCache();
  let nowMs = 1_000_000;
  registerCacheGauges(registry, Gauge, cache, () => nowMs);
  const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
  return { registry, cache, value, advance: (ms: number) => (nowMs += ms), now: () => nowMs };
}

describe('cache gauges', () => {
  it('read the breaker, the sync and the pending marks when scraped', async () => {
    const { cache, value } = setup();
    expect(await value('session_cache_breaker_open')).toBe(0);
    expect(await value('session_cache_in_sync')).toBe(1);
    cache.state = { ...cache.state, breakerOpen: true, inSync: false, pendingRevocations: 7 };
    expect(await value('session_cache_breaker_open')).toBe(1);
    expect(await value('session_cache_in_sync')).toBe(0);
    expect(await value('session_cache_pending_revocations')).toBe(7);
  });

  it('give the reconciliation lag in seconds behind now, NaN before a watermark was seen', async () => {
    const { cache, value, now, advance } = setup();
    expect(await value('session_cache_reconciliation_lag_seconds')).toBeNaN();
    cache.state = { ...cache.state, watermarkAt: now() - 12_000 };
    expect(await value('session_cache_reconciliation_lag_seconds')).toBe(12);
    advance(60_000); // the watermark stopped moving
    expect(await value('session_cache_reconciliation_lag_seconds')).toBe(72);
  });

  it('sample the Redis memory at most every 30 s, however often scraped, and say NaN when no sample could be taken', async () => {
    const { registry, cache, value, advance } = setup();
    for (let i = 0; i < 5; i++) await registry.metrics();
    expect(cache.samples).toBe(1);
    expect(await value('session_redis_keys')).toBe(40);
    expect(await value('session_redis_memory_bytes')).toBe(4000);
    cache.memory = { keys: 50, bytes: 5000 };
    advance(KEY_MEMORY_MAX_AGE_MS - 1);
    expect(await value('session_redis_memory_bytes')).toBe(4000);
    advance(1);
    expect(await value('session_redis_memory_bytes')).toBe(5000);
    expect(cache.samples).toBe(2);
    cache.memory = new Error('Redis away');
    advance(KEY_MEMORY_MAX_AGE_MS);
    expect(await value('session_redis_memory_bytes')).toBeNaN();
    // A failed sample is not kept: the next scrape tries again.
    cache.memory = null;
    await value('session_redis_memory_bytes');
    expect(cache.samples).toBe(4);
    expect(await value('session_redis_keys')).toBeNaN();
  });

  it('register nothing twice in a registry two modules share', () => {
    const { registry, cache } = setup();
    expect(() => registerCacheGauges(registry, Gauge, cache)).not.toThrow();
  });
});
