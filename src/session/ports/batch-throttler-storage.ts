import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';

/** A `@nestjs/throttler` storage that can also count several hits of one key in one step. */
export interface BatchThrottlerStorage extends ThrottlerStorage {
  /** `increment` for `hits` hits at once (blocked: none of them counts). */
  incrementBy(
    key: string,
    hits: number,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord>;
}
