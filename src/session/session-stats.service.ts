import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditLog } from './ports/audit-log.js';
import { Clock } from './ports/clock.js';
import { liveWindow } from './ports/session-record.js';
import { SessionStore } from './ports/session-store.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import type { ResolvedSessionOptions } from './session.options.js';
import { SessionService } from './session.service.js';
import { SessionSweepService } from './session-sweep.service.js';
import { SessionSockets } from './realtime/session-sockets.service.js';

const DAY_MS = 86_400_000;
/** How a `login` entry of an upgraded legacy session begins (`LegacySessionUpgrader`). */
const MIGRATED_DETAIL = 'migrated from ';
/** Accounts listed in `loginFailuresByAccountLast24h`. */
const TOP_ACCOUNTS = 10;
/** `sessions_active` is counted in the store at most this often, however often it is scraped. */
const ACTIVE_GAUGE_MAX_AGE_MS = 10_000;

/** What `GET /admin/sessions/stats` answers. */
export interface SessionStats {
  /** Live sessions now. */
  active: number;
  /** Sessions with a socket connected now, on any instance. */
  online: number;
  /** Users with a socket connected now, on any instance. */
  onlineUsers: number;
  createdLast24h: number;
  /** Ended early, for any reason (logout, admin, eviction, reuse, …). */
  revokedLast24h: number;
  /** Ended because their time ran out (expired or idle). */
  expiredLast24h: number;
  /** Mean lifetime, creation to end, of the sessions that ended in the last 24 h (0 if none). */
  averageDurationSeconds: number;
  /** Most sessions live at once in the last 24 h (sampled every `sweepInterval`, and now). */
  peakConcurrent: number;
  loginFailuresLast24h: number;
  /**
   * The accounts with the most wrong passwords (at login or any password check) in the last 24 h,
   * most first, at most 10; failures against unknown emails are not in it.
   */
  loginFailuresByAccountLast24h: AccountFailures[];
  reuseDetectedLast24h: number;
  /** Sessions revoked because a request came from another client than the one they are bound to (`binding`). */
  hijackSuspectedLast24h: number;
  /** Logins from a browser family, network or device id new to the user (`new_device` entries). */
  newDeviceLoginsLast24h: number;
  /** Requests refused by a rate limit or the failed-login backoff (`throttled` entries). */
  throttledLast24h: number;
  /** Sessions opened by upgrading a legacy session (`legacySessions`) in the last 24 h. */
  migratedLast24h: number;
}

/** Wrong passwords given for one account. */
export interface AccountFailures {
  userId: string;
  failures: number;
}

/**
 * The operators' numbers, each answered by an index range (see the migration
 * `CreateAuditAndStats`), never a full scan. Before counting it brings the trail up to date:
 * it records expirations due by now and writes this instance's pending audit events.
 */
@Injectable()
export class SessionStatsService {
  private readonly logger = new Logger('SessionStats');
  private activeCount?: { at: number; value: Promise<number> };

  constructor(
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly store: SessionStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly sessions: SessionService,
    private readonly sweep: SessionSweepService,
    private readonly events: SessionEventPublisher,
    metrics: SessionMetrics,
    private readonly sockets: SessionSockets,
  ) {
    metrics.countActiveWith(() => this.active());
  }

  async stats(): Promise<SessionStats> {
    await this.sessions.flushActivity();
    await this.sweep.runOnce().catch((error: Error) => this.logger.warn(`Sweep before the statistics failed: ${error.message}`));
    await this.events.flush();
    const now = new Date(this.clock.now());
    const since = new Date(now.getTime() - DAY_MS);
    const [summary, counts, peak, byAccount, migrated, presence] = await Promise.all([
      this.store.summarize(this.window(now), since),
      this.audit.countSince(['login_failed', 'reuse_detected', 'hijack_suspected', 'new_device', 'throttled'], since),
      this.store.peakConcurrency(since),
      this.audit.countByUserSince('login_failed', since, TOP_ACCOUNTS),
      this.audit.countWithDetailSince('login', MIGRATED_DETAIL, since),
      this.sockets.counts(),
    ]);
    return {
      active: summary.active,
      online: presence.sessions,
      onlineUsers: presence.users,
      createdLast24h: summary.createdSince,
      revokedLast24h: summary.revokedSince,
      expiredLast24h: summary.expiredSince,
      averageDurationSeconds: summary.endedSince > 0 ? Math.round(summary.endedLifetimeSeconds / summary.endedSince) : 0,
      peakConcurrent: Math.max(peak, summary.active),
      loginFailuresLast24h: counts.login_failed,
      loginFailuresByAccountLast24h: byAccount.map(({ userId, count }) => ({ userId, failures: count })),
      reuseDetectedLast24h: counts.reuse_detected,
      hijackSuspectedLast24h: counts.hijack_suspected,
      newDeviceLoginsLast24h: counts.new_device,
      throttledLast24h: counts.throttled,
      migratedLast24h: migrated,
    };
  }

  /** Live sessions, counted at most every few seconds (for the `sessions_active` gauge). */
  active(): Promise<number> {
    const nowMs = this.clock.now();
    if (!this.activeCount || nowMs - this.activeCount.at > ACTIVE_GAUGE_MAX_AGE_MS) {
      const value = this.store.countLive(undefined, this.window(new Date(nowMs)));
      // A failed count is not kept: the next scrape tries again.
      value.catch(() => (this.activeCount = undefined));
      this.activeCount = { at: nowMs, value };
    }
    return this.activeCount.value;
  }

  private window(now: Date) {
    return liveWindow(now, this.options.idleTtl);
  }
}
