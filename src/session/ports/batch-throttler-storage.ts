import type { ThrottlerStorage } from '@nestjs/throttler';

/** What a `@nestjs/throttler` storage answers for one hit (the package does not export the type from its entry). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

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
