import { Logger } from '@nestjs/common';
import type { SessionStore } from './ports/session-store.js';

/**
 * Write-behind of last activity: the request path only notes "session X was active at T"; a
 * timer writes every note of the last `flushMs` in one statement. So validating a cached session
 * runs no SQL, and a busy instance writes activity in batches. Notes that fail to write (store
 * down) are kept for the next round.
 */
export class ActivityRecorder {
  private readonly logger = new Logger('SessionActivity');
  private pending = new Map<string, number>();
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
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
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
        for (const [id, at] of batch) this.record(id, Math.max(at, this.pending.get(id) ?? 0));
      });
    await this.flushing;
  }
}
