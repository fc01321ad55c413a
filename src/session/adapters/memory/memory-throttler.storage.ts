import type { ThrottlerStorageRecord } from '../../ports/batch-throttler-storage.js';
import { LRUCache } from 'lru-cache';
import { BatchThrottlerStorage } from '../../ports/batch-throttler-storage.js';

/** One key's fixed window: hits since `startedAt`'s window began, and a block if it went over. */
interface Window {
  hits: number;
  expiresAt: number;
  blockedUntil: number;
}

/**
 * Rate-limit counters in this process, with the same fixed-window semantics as
 * `RedisThrottlerStorage`'s Lua script: a window opens at a key's first hit and lasts `ttl`; a hit
 * past `limit` blocks the key for `blockDuration`, during which hits are refused without counting.
 * O(1) per hit and bounded in keys (least recently used dropped first), unlike `@nestjs/throttler`'s
 * default storage, which keeps and filters a timestamp per hit (a cost that grows with the limit).
 */
export class MemoryThrottlerStorage extends BatchThrottlerStorage {
  private readonly windows: LRUCache<string, Window>;

  constructor(
    maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.windows = new LRUCache<string, Window>({ max: maxKeys });
  }


  async incrementBy(
    key: string,
    hits: number,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const id = `${throttlerName}:${key}`;
    const now = this.now();
    let window = this.windows.get(id);
    if (window && window.blockedUntil > now) {
      const open = window.expiresAt > now;
      return {
        totalHits: open ? window.hits : 0,
        timeToExpire: open ? seconds(window.expiresAt - now) : 0,
        isBlocked: true,
        timeToBlockExpire: seconds(window.blockedUntil - now),
      };
    }
    if (!window || window.expiresAt <= now) {
      window = { hits: 0, expiresAt: now + Math.max(1, Math.ceil(ttl)), blockedUntil: 0 };
    }
    window.hits += hits;
    const blocked = window.hits > limit;
    if (blocked) window.blockedUntil = now + Math.max(1, Math.ceil(blockDuration));
    this.windows.set(id, window, { ttl: Math.max(window.expiresAt, window.blockedUntil) - now });
    return {
      totalHits: window.hits,
      timeToExpire: seconds(window.expiresAt - now),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? seconds(window.blockedUntil - now) : 0,
    };
  }

  /**
   * Takes in what another storage (Redis) answered for a key, so that counting here, if that
   * storage fails next, goes on from its count and block instead of from zero: never lowers a
   * count this process already holds.
   */
  observe(key: string, throttlerName: string, record: ThrottlerStorageRecord): void {
    const id = `${throttlerName}:${key}`;
    const now = this.now();
    const known = this.windows.get(id);
    const window: Window = {
      hits: Math.max(record.totalHits, known && known.expiresAt > now ? known.hits : 0),
      expiresAt: now + Math.max(1, record.timeToExpire * 1000),
      blockedUntil: Math.max(record.isBlocked ? now + record.timeToBlockExpire * 1000 : 0, known?.blockedUntil ?? 0),
    };
    this.windows.set(id, window, { ttl: Math.max(window.expiresAt, window.blockedUntil) - now });
  }
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
