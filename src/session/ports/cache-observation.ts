/**
 * What a session cache with a shared tier tells about itself, read with no I/O (a scrape reads it
 * every time).
 */
export interface CacheState {
  /** True while the shared tier's circuit breaker keeps calls off it (it failed, and is not back). */
  breakerOpen: boolean;
  /** True while this instance reads the shared tier: it answers, its channel is heard, it caught up. */
  inSync: boolean;
  /** Revocation marks the shared tier refused, kept here and retried until it takes them. */
  pendingRevocations: number;
  /**
   * The newest watermark this instance has seen (epoch ms): every end before it is marked in the
   * shared tier. Null before the first. It normally trails the clock by the reconciliation margin
   * (10 s) plus at most one interval; further behind means ends are not being reconciled.
   */
  watermarkAt: number | null;
}

/** Roughly how much the module's keys take in the shared tier (sampled: an estimate). */
export interface KeyMemorySample {
  /** Keys under the module's prefix (estimated from a sample when the database is large). */
  keys: number;
  /** Bytes they use, by Redis's `MEMORY USAGE` of a sample times the key count. */
  bytes: number;
}

/** A session cache that can be observed (`SharedSessionCache` is one): what the cache gauges read. */
export interface ObservableSessionCache {
  cacheState(): CacheState;
  /** A sample of the shared tier's memory (a few commands: called at most every few seconds); null when it cannot tell. */
  sampleKeyMemory(): Promise<KeyMemorySample | null>;
}

/** True for a cache that has `cacheState` and `sampleKeyMemory`. */
export function isObservableCache(cache: unknown): cache is ObservableSessionCache {
  const c = cache as Partial<ObservableSessionCache> | null;
  return typeof c === 'object' && c !== null && typeof c.cacheState === 'function' && typeof c.sampleKeyMemory === 'function';
}
