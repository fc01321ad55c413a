import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { HOUSEKEEPING_JOBS, HousekeepingLock } from './ports/housekeeping-lock.js';
import { RepeatingJob } from './repeating-job.js';
import { Clock } from './ports/clock.js';
import { SessionCache } from './ports/session-cache.js';
import { accessHashesByUser, liveWindow, type SessionRecord } from './ports/session-record.js';
import { SessionStore } from './ports/session-store.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionEvent } from './session.events.js';
import type { ResolvedSessionOptions } from './session.options.js';

/** Sessions recorded per statement. */
const SWEEP_BATCH = 1000;
/**
 * An idle session is recorded as ended this long after its idle time ran out, not at once: last
 * activity is written behind (within about a second), and a request just before the end must
 * still count. Expiry needs no margin: it moves only by synchronous writes (refresh, extend).
 */
export const IDLE_SWEEP_MARGIN_MS = 10_000;

/** What one sweep did. */
export interface SweepResult {
  /** Sessions recorded as expired (each got an `expired` event). */
  expired: number;
  /** Live sessions counted for the concurrency sample; null when skipped. */
  active: number | null;
  /** True when another instance held the lock, so this one did nothing. */
  skipped: boolean;
}

/**
 * Every `sweepInterval` seconds, one instance at a time (its own advisory lock):
 * 1. records the end of sessions whose time ran out (expired or idle) — `endedAt` in the store,
 *    an `expired` event for the audit trail and listeners, a revocation mark in the cache — so
 *    expirations are as visible as revocations;
 * 2. samples how many sessions are live, for the peak concurrency of the statistics.
 * The statistics call it too, so they never wait for the timer.
 */
@Injectable()
export class SessionSweepService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SessionSweep');
  private readonly job = new RepeatingJob(
    () => this.sweep(),
    (error) => this.logger.warn(`Session sweep failed: ${(error as Error).message}`),
  );

  constructor(
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly store: SessionStore,
    private readonly cache: SessionCache,
    private readonly lock: HousekeepingLock,
    private readonly clock: Clock,
    private readonly events: SessionEventPublisher,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.sweepInterval > 0) this.job.every(this.options.sweepInterval, () => this.runOnce());
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  /** One sweep now; a call while one runs in this instance joins it. */
  runOnce(): Promise<SweepResult> {
    return this.job.runOnce();
  }

  private async sweep(): Promise<SweepResult> {
    if (this.job.stopping) return { expired: 0, active: null, skipped: false };
    const outcome = await this.lock.runExclusive(HOUSEKEEPING_JOBS.sweep, async () => {
      let expired = 0;
      for (;;) {
        const now = new Date(this.clock.now());
        // Idle sessions get the margin on top of their idle lifetime (see IDLE_SWEEP_MARGIN_MS).
        const window = liveWindow(now, this.options.idleTtl + IDLE_SWEEP_MARGIN_MS / 1000);
        const marked = await this.store.markExpired(window, this.options.idleTtl, SWEEP_BATCH);
        expired += marked.length;
        await this.announce(marked);
        if (marked.length < SWEEP_BATCH || this.job.stopping) break;
      }
      const now = new Date(this.clock.now());
      const active = await this.store.countLive(undefined, liveWindow(now, this.options.idleTtl));
      await this.store.recordConcurrency(now, active, new Date(now.getTime() - this.options.retention * 1000));
      return { expired, active };
    });
    if (!outcome.acquired) return { expired: 0, active: null, skipped: true };
    if (outcome.result.expired > 0) this.logger.debug(`Recorded ${outcome.result.expired} expired sessions`);
    return { ...outcome.result, skipped: false };
  }

  /** Marks the ended sessions in the cache and tells the audit trail and listeners. */
  private async announce(ended: SessionRecord[]): Promise<void> {
    for (const s of ended) {
      const idle = s.endedAt !== null && s.endedAt < s.expiresAt;
      this.events.publish(
        new SessionEvent('expired', s.endedAt ?? new Date(this.clock.now()), s.userId, s.id, s.ipAddress, s.userAgent, idle ? 'idle' : 'expired'),
      );
    }
    await Promise.all([...accessHashesByUser(ended)].map(([userId, hashes]) => this.cache.markRevoked(userId, hashes)));
  }
}
