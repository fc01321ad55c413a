import type { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottledWarning } from '../../throttled-warning.js';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';

/**
 * Counts in Redis while it answers and in this process while it does not, so a Redis fault
 * loosens the limit to per-instance counting for a while instead of turning into 500s.
 */
export class FallbackThrottlerStorage implements ThrottlerStorage {
  private readonly warning = new ThrottledWarning('SessionThrottler');

  constructor(
    private readonly primary: ThrottlerStorage,
    private readonly fallback: ThrottlerStorage,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      return await this.primary.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      this.warning.warn(`Rate-limit counters in Redis unavailable, counting in process: ${(error as Error).message}`);
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }
}
