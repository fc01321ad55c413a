import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { SessionStore } from './ports/session-store.js';

/** Sessions whose last recorded activity is remembered at most (the least recently active forgotten first). */
const REMEMBERED = 100_000;

/**
 * Write-behind of last activity: the request path only notes "session X was active at T"; a
 * timer writes every note of the last `flushMs` in one statement. So validating a cached session
 * runs no SQL, and a busy instance writes activity in batches. Notes that fail to write (store
 * down) are kept for the next round.
 */
export class ActivityRecorder {
  private readonly logger = new Logger('SessionActivity');
  private pending = new Map<string, number>();
  /** The last activity noted per session, written or not: newer than a cached copy may say. */
  private readonly recorded = new LRUCache<string, number>({ max: REMEMBERED });
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly store: SessionStore,
    private readonly flushMs = 1000,
  ) {}

  /** Notes that a session was active at `atMs` (epoch ms). */
  record(sessionId: string, atMs: number): void {
    const previous = this.pending.get(sessionId) ?? 0;
    if (atMs > previous) this.pending.set(sessionId, atMs);
    if (atMs > this.lastRecorded(sessionId)) this.recorded.set(sessionId, atMs);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** The last activity this process noted for a session (epoch ms), or 0. */
  lastRecorded(sessionId: string): number {
    return this.recorded.get(sessionId) ?? 0;
  }

  /** Writes every pending note now (also on shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.store
      .touchMany([...batch].map(([id, at]) => ({ id, at: new Date(at) })))
      .catch((error: Error) => {
        this.logger.warn(`Could not record activity of ${batch.size} sessions, will retry: ${error.message}`);
        for (const [id, at] of batch) if (at > (this.pending.get(id) ?? 0)) this.pending.set(id, at);
        this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
      });
    await this.flushing;
  }
}
