import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';

/** A `@nestjs/throttler` storage that can also count several hits of one key in one step. */
export abstract class BatchThrottlerStorage implements ThrottlerStorage {
  /** `increment` for `hits` hits at once (blocked: none of them counts). */
  abstract incrementBy(
    key: string,
    hits: number,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord>;

  /** One hit. */
  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    return this.incrementBy(key, 1, ttl, limit, blockDuration, throttlerName);
  }
}
