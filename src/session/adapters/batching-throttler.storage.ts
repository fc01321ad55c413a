import type { ThrottlerStorageRecord } from '../ports/batch-throttler-storage.js';
import { LRUCache } from 'lru-cache';
import type { AdapterContext, AdapterLifecycle } from '../ports/adapter-lifecycle.js';
import { BatchThrottlerStorage } from '../ports/batch-throttler-storage.js';
import { ThrottledWarning } from '../runtime/throttled-warning.js';

/**
 * What this instance knows of one key. Every hit it has seen in the window is in exactly one of
 * `known` (the shared storage counted it and said so), `pending`, `sending` or `asking`, so their
 * sum is never below the hits this instance admitted: the in-process view never forgets a hit
 * that is on its way.
 */
interface Tally {
  /** The shared count in its latest answer (this instance's hits included; never lowered). */
  known: number;
  /** Hits admitted here, not sent yet. */
  pending: number;
  /** Hits admitted here, sent (in a batch, or along with an exact hit), no answer yet. */
  sending: number;
  /** Hits waiting for the shared storage to say whether they pass (admitted or refused there). */
  asking: number;
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
 * each answer brings back the count of every instance. A hit is admitted here only while
 *
 * - everything this instance has seen of the key (the last shared count, plus its hits unsent,
 *   in flight, or waiting for an answer) stays within half the limit, and
 * - the hits it admitted that the shared storage has not acknowledged yet stay within a twentieth
 *   of the limit;
 *
 * any other hit goes to the shared storage, which counts it atomically and says whether it passes
 * (along with the unsent ones). Limits below 20, and the throttlers named `exact`, always go there.
 *
 * So one instance never admits more than the limit, however many hits arrive at once: every hit
 * admitted here counts against the limit until the shared storage has it, and every hit past half
 * the limit is decided by the shared storage after all earlier ones. Across instances, the hits an
 * instance admitted before hearing the others' count are at most a twentieth of the limit at any
 * time: in a window, each instance may let through at most a twentieth of the limit beyond it.
 *
 * While the shared storage fails, hits are counted here against the whole limit and sent once it
 * is back; a hit of an `exact` throttler then rejects, for `FallbackThrottlerStorage` to count it.
 */
export class BatchingThrottlerStorage extends BatchThrottlerStorage implements AdapterLifecycle {
  private readonly tallies: LRUCache<string, Tally>;
  private readonly syncMs: number;
  private readonly exact: ReadonlySet<string>;
  private readonly warning = new ThrottledWarning('SessionThrottler');
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
      tally = { known: 0, pending: 0, sending: 0, asking: 0, windowEndsAt: now + ttl, blockedUntil: 0, ttl, limit, blockDuration, throttlerName, key, id };
      this.tallies.set(id, tally, { ttl: Math.max(1, ttl) });
    }
    const seen = tally.known + tally.pending + tally.sending + tally.asking + hits;
    const unacknowledged = tally.pending + tally.sending + hits;
    if (seen <= limit / 2 && unacknowledged <= limit / 20) {
      tally.pending += hits;
      this.scheduleSync();
      return { totalHits: seen, timeToExpire: seconds(tally.windowEndsAt - now), isBlocked: false, timeToBlockExpire: 0 };
    }
    return this.ask(tally, hits);
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
      if (tally.pending > 0) sends.push(this.send(tally));
    }
    await Promise.all(sends);
  }

  /** The shared storage decides on `hits` (counted after the unsent ones, which go along). */
  private async ask(tally: Tally, hits: number): Promise<ThrottlerStorageRecord> {
    const unsent = tally.pending;
    tally.pending = 0;
    tally.sending += unsent;
    tally.asking += hits;
    try {
      const record = await this.shared.incrementBy(tally.key, unsent + hits, tally.ttl, tally.limit, tally.blockDuration, tally.throttlerName);
      tally.sending -= unsent;
      tally.asking -= hits;
      this.learn(tally, record, this.now());
      return record;
    } catch (error) {
      tally.sending -= unsent;
      tally.asking -= hits;
      this.warning.warn(`Rate-limit counts in Redis unavailable, counting in process: ${(error as Error).message}`);
      return this.countHere(tally, unsent, hits);
    }
  }

  /**
   * The shared storage did not answer: the `unsent` hits (admitted already) stay counted here, to
   * be sent later, and `hits` pass if everything this instance has seen of the key still leaves
   * room for them. Hits still waiting for an answer count as if they will pass; a refused hit is
   * not counted and blocks nothing, so the next one is decided afresh as those answers come in.
   */
  private countHere(tally: Tally, unsent: number, hits: number): ThrottlerStorageRecord {
    const now = this.now();
    tally.pending += unsent;
    this.scheduleSync();
    const seen = tally.known + tally.pending + tally.sending + tally.asking + hits;
    const timeToExpire = seconds(tally.windowEndsAt - now);
    if (seen > tally.limit) return { totalHits: seen, timeToExpire, isBlocked: true, timeToBlockExpire: Math.max(1, timeToExpire) };
    tally.pending += hits;
    return { totalHits: seen, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
  }

  private async send(tally: Tally): Promise<void> {
    const hits = tally.pending;
    tally.pending = 0;
    tally.sending += hits;
    try {
      const record = await this.shared.incrementBy(tally.key, hits, tally.ttl, tally.limit, tally.blockDuration, tally.throttlerName);
      tally.sending -= hits;
      this.learn(tally, record, this.now());
    } catch (error) {
      // The hits stay counted here, to be sent with the next batch.
      tally.sending -= hits;
      tally.pending += hits;
      this.warning.warn(`Rate-limit counts in Redis unavailable, counting in process: ${(error as Error).message}`);
      this.scheduleSync();
    }
  }

  private learn(tally: Tally, record: ThrottlerStorageRecord, now: number): void {
    // Answers may come back out of order; the shared count of a window only grows.
    tally.known = Math.max(tally.known, record.totalHits);
    if (record.timeToExpire > 0) tally.windowEndsAt = Math.min(tally.windowEndsAt, now + record.timeToExpire * 1000);
    if (!record.isBlocked) return;
    // The record counts whole seconds, rounded up: never hold a block longer than it can last.
    tally.blockedUntil = Math.max(tally.blockedUntil, now + Math.min(record.timeToBlockExpire * 1000, tally.blockDuration));
    // Remember the block for as long as it lasts, even past the window (unless a newer window took its place).
    if (this.tallies.peek(tally.id) === tally) {
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
    totalHits: open ? tally.known + tally.pending + tally.sending + tally.asking : 0,
    timeToExpire: open ? seconds(tally.windowEndsAt - now) : 0,
    isBlocked: true,
    timeToBlockExpire: seconds(tally.blockedUntil - now),
  };
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
