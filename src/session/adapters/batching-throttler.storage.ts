import type { ThrottlerStorageRecord } from '../ports/batch-throttler-storage.js';
import { LRUCache } from 'lru-cache';
import type { AdapterContext, AdapterLifecycle } from '../ports/adapter-lifecycle.js';
import { BatchThrottlerStorage } from '../ports/batch-throttler-storage.js';

/** What this instance knows of one key, and the hits it has not told the shared storage yet. */
interface Tally {
  /** The shared count at the last answer of the shared storage (this instance's hits included). */
  known: number;
  /** Hits counted here since, not yet sent. */
  pending: number;
  windowEndsAt: number;
  blockedUntil: number;
  ttl: number;
  limit: number;
  blockDuration: number;
  throttlerName: string;
  key: string;
  id: string;
}

export interface BatchingOptions {
  /** Milliseconds between two batches sent to the shared storage. @default 100 */
  syncMs?: number;
  /** Throttlers counted exactly, every hit in the shared storage (e.g. `login`). @default [] */
  exact?: readonly string[];
  /** Keys tracked in process at most (least recently used dropped first). @default 100000 */
  maxKeys?: number;
}

/**
 * Rate limits without a Redis round trip on most requests. A key far from its limit is counted in
 * this process and its hits are sent to the shared storage (Redis) in one batch every `syncMs`;
 * each answer brings back the count of every instance. A key gets the shared storage on every hit
 * — exact and atomic across instances — once it is past half its limit, or once its unsent hits
 * would pass a twentieth of it, and always for the throttlers named `exact`.
 *
 * So the count is exact within one instance; across instances, each may admit up to a twentieth
 * of the limit per `syncMs` that the others have not heard of yet. Limits below 20 are always exact.
 * While the shared storage fails, hits keep being counted here and are sent once it is back; a
 * hit that needs the shared storage then rejects, for `FallbackThrottlerStorage` to count it.
 */
export class BatchingThrottlerStorage extends BatchThrottlerStorage implements AdapterLifecycle {
  private readonly tallies: LRUCache<string, Tally>;
  private readonly syncMs: number;
  private readonly exact: ReadonlySet<string>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly shared: BatchThrottlerStorage & AdapterLifecycle,
    options: BatchingOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.syncMs = options.syncMs ?? 100;
    this.exact = new Set(options.exact ?? []);
    this.tallies = new LRUCache<string, Tally>({ max: options.maxKeys ?? 100_000 });
  }


  async incrementBy(
    key: string,
    hits: number,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (this.exact.has(throttlerName)) return this.shared.incrementBy(key, hits, ttl, limit, blockDuration, throttlerName);
    const id = `${throttlerName}:${key}`;
    const now = this.now();
    let tally = this.tallies.get(id);
    if (tally && tally.blockedUntil > now) return blockedRecord(tally, now);
    if (!tally || tally.windowEndsAt <= now) {
      tally = { known: 0, pending: 0, windowEndsAt: now + ttl, blockedUntil: 0, ttl, limit, blockDuration, throttlerName, key, id };
      this.tallies.set(id, tally, { ttl: Math.max(1, ttl) });
    }
    const unsent = tally.pending + hits;
    if (tally.known + unsent > limit / 2 || unsent > limit / 20) {
      // Near the limit (or too much unsent): this hit and the unsent ones, in the shared storage now.
      tally.pending = 0;
      try {
        const record = await this.shared.incrementBy(key, unsent, ttl, limit, blockDuration, throttlerName);
        this.learn(tally, record, this.now());
        return record;
      } catch (error) {
        tally.pending += unsent;
        throw error;
      }
    }
    tally.pending = unsent;
    this.scheduleSync();
    return { totalHits: tally.known + unsent, timeToExpire: seconds(tally.windowEndsAt - now), isBlocked: false, timeToBlockExpire: 0 };
  }

  async start(context: AdapterContext): Promise<void> {
    await this.shared.start?.(context);
  }

  /** Sends what is unsent, then closes the shared storage. */
  async close(): Promise<void> {
    await this.sync();
    await this.shared.close?.();
  }

  /** Sends every unsent hit now. */
  async sync(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sends: Promise<void>[] = [];
    for (const tally of this.tallies.values()) {
      if (tally.pending === 0) continue;
      const hits = tally.pending;
      tally.pending = 0;
      sends.push(
        this.shared
          .incrementBy(tally.key, hits, tally.ttl, tally.limit, tally.blockDuration, tally.throttlerName)
          .then((record) => this.learn(tally, record, this.now()))
          // The shared storage is away: the hits stay counted here, to be sent with the next batch.
          .catch(() => {
            tally.pending += hits;
          }),
      );
    }
    await Promise.all(sends);
  }

  private learn(tally: Tally, record: ThrottlerStorageRecord, now: number): void {
    tally.known = record.totalHits;
    if (record.timeToExpire > 0) tally.windowEndsAt = Math.min(tally.windowEndsAt, now + record.timeToExpire * 1000);
    if (record.isBlocked) {
      // The record counts whole seconds, rounded up: never hold a block longer than it can last.
      tally.blockedUntil = now + Math.min(record.timeToBlockExpire * 1000, tally.blockDuration);
      // Remember the block for as long as it lasts, even past the window.
      this.tallies.set(tally.id, tally, { ttl: Math.max(1, Math.max(tally.windowEndsAt, tally.blockedUntil) - now) });
    }
  }

  private scheduleSync(): void {
    this.timer ??= setTimeout(() => void this.sync(), this.syncMs).unref();
  }
}

function blockedRecord(tally: Tally, now: number): ThrottlerStorageRecord {
  const open = tally.windowEndsAt > now;
  return {
    totalHits: open ? tally.known + tally.pending : 0,
    timeToExpire: open ? seconds(tally.windowEndsAt - now) : 0,
    isBlocked: true,
    timeToBlockExpire: seconds(tally.blockedUntil - now),
  };
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
