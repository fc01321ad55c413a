import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import type { KeyMemorySample, ObservableSessionCache } from '../ports/cache-observation.js';
import { Sampled } from './sampled.js';

/** The Redis memory sample is taken at most this often (whatever the scrape interval, or the number of scrapers). */
export const KEY_MEMORY_MAX_AGE_MS = 30_000;

/**
 * The gauges of a cache with a shared tier, all computed when scraped: the state ones read
 * fields (no I/O), the memory ones a sample at most every 30 s.
 *
 * - `session_cache_breaker_open`: 1 while the circuit breaker keeps calls off Redis
 * - `session_cache_in_sync`: 1 while this instance reads Redis (in sync with it)
 * - `session_cache_pending_revocations`: revocation marks Redis refused, retried from here
 * - `session_cache_reconciliation_lag_seconds`: how far behind now the watermark this instance
 *   last saw is (normally the 10 s margin plus at most one reconciliation interval); NaN before the first
 * - `session_redis_keys`, `session_redis_memory_bytes`: the module's keys in Redis (under its
 *   prefix) and the memory they use, estimated from a sample; NaN when no sample could be taken
 */
export function registerCacheGauges(
  registry: Registry,
  Gauge: typeof PromClient.Gauge,
  cache: ObservableSessionCache,
  now: () => number = Date.now,
): void {
  const gauge = (name: string, help: string, collect: (set: (value: number) => void) => void | Promise<void>) => {
    if (registry.getSingleMetric(name)) return;
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        return collect((value) => this.set(value));
      },
    });
  };
  const flag = (value: boolean) => (value ? 1 : 0);
  gauge('session_cache_breaker_open', '1 while the circuit breaker keeps the session cache off Redis', (set) => set(flag(cache.cacheState().breakerOpen)));
  gauge('session_cache_in_sync', '1 while this instance reads the session cache in Redis (answers, heard, caught up)', (set) => set(flag(cache.cacheState().inSync)));
  gauge('session_cache_pending_revocations', 'Revocation marks Redis refused, kept and retried by this instance', (set) => set(cache.cacheState().pendingRevocations));
  gauge(
    'session_cache_reconciliation_lag_seconds',
    'Seconds between now and the reconciliation watermark this instance last saw (every end before it is marked in Redis)',
    (set) => {
      const at = cache.cacheState().watermarkAt;
      set(at === null ? Number.NaN : Math.max(0, now() - at) / 1000);
    },
  );
  const memory = new Sampled<KeyMemorySample | null>(() => cache.sampleKeyMemory(), KEY_MEMORY_MAX_AGE_MS, now);
  const sampled = async (pick: (sample: KeyMemorySample) => number, set: (value: number) => void) => {
    const sample = await memory.get().catch(() => null);
    set(sample ? pick(sample) : Number.NaN);
  };
  gauge('session_redis_keys', "The module's keys in Redis (under its prefix), estimated from a sample taken at most every 30 s", (set) => sampled((s) => s.keys, set));
  gauge('session_redis_memory_bytes', "Bytes the module's keys use in Redis (MEMORY USAGE of a sample times the key count), at most every 30 s", (set) =>
    sampled((s) => s.bytes, set),
  );
}
