import type { ThrottlerStorage } from '@nestjs/throttler';
import type { AdapterContext, AdapterLifecycle } from '../../ports/adapter-lifecycle.js';
import { ThrottledWarning } from '../../runtime/throttled-warning.js';
import type { ThrottlerStorageRecord } from '../../ports/batch-throttler-storage.js';
import type { MemoryThrottlerStorage } from '../memory/memory-throttler.storage.js';

/**
 * Counts in Redis while it answers and in this process while it does not, so a Redis fault
 * loosens the limit to per-instance counting for a while instead of turning into 500s. The
 * answers Redis gives are kept here too, so a count that falls back in the middle of a window (a
 * command that timed out under a burst) goes on from the last count Redis gave, not from zero.
 */
export class FallbackThrottlerStorage implements ThrottlerStorage, AdapterLifecycle {
  private readonly warning = new ThrottledWarning('SessionThrottler');
  private readonly observed?: ReadonlySet<string>;

  /**
   * @param observed the throttlers whose hits can end up here (the primary rejects them when
   *   Redis fails), so the only ones whose answers are worth keeping — e.g. the exact ones of a
   *   `BatchingThrottlerStorage`, which counts the others in process itself. @default every throttler
   */
  constructor(
    private readonly primary: ThrottlerStorage & AdapterLifecycle,
    private readonly fallback: MemoryThrottlerStorage,
    observed?: readonly string[],
  ) {
    this.observed = observed && new Set(observed);
  }

  async start(context: AdapterContext): Promise<void> {
    await this.primary.start?.(context);
  }

  async close(): Promise<void> {
    await this.primary.close?.();
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      const record = await this.primary.increment(key, ttl, limit, blockDuration, throttlerName);
      if (!this.observed || this.observed.has(throttlerName)) this.fallback.observe(key, throttlerName, record);
      return record;
    } catch (error) {
      this.warning.warn(`Rate-limit counters in Redis unavailable, counting in process: ${(error as Error).message}`);
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }
}
