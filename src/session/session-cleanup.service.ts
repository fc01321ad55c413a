import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { AuditLog } from './ports/audit-log.js';
import { RepeatingJob } from './repeating-job.js';
import { HOUSEKEEPING_JOBS, HousekeepingLock } from './ports/housekeeping-lock.js';
import { Clock } from './ports/clock.js';
import { SessionStore } from './ports/session-store.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';

/** Rows one DELETE removes at most: each batch is one short statement. */
export const DEFAULT_CLEANUP_BATCH_SIZE = 1000;
/** Milliseconds between two batches, so live queries get the database in between. */
export const DEFAULT_CLEANUP_BATCH_PAUSE_MS = 100;

/** The options the cleanup job reads (a subset of `ResolvedSessionOptions`). */
export interface SessionCleanupOptions {
  /** Seconds between two cleanup passes; 0 turns the periodic job off (`runOnce` still works). */
  cleanupInterval: number;
  /** Seconds an ended (revoked, expired or idle) session is kept before it is deleted. */
  retention: number;
  /** Seconds of inactivity after which a session is over: an idle session ended then. */
  idleTtl: number;
  /**
   * Seconds a refresh token lives. With `accessTtl`, how long the record of a rotation is kept:
   * the records of rotations before now − max(`refreshTtl`, `accessTtl`) are deleted.
   */
  refreshTtl: number;
  /** Seconds an access token lives (see `refreshTtl`). */
  accessTtl: number;
  /** Rows deleted per statement. @default 1000 */
  cleanupBatchSize?: number;
  /** Milliseconds of pause between two batches. @default 100 */
  cleanupBatchPauseMs?: number;
}

/** What one cleanup pass did. */
export interface CleanupResult {
  /** Sessions deleted (their rotated refresh-token rows went with them). */
  deleted: number;
  /**
   * Rotated refresh-token rows of rotations older than max(`refreshTtl`, `accessTtl`) deleted
   * (`SessionStore.deleteRotatedBefore`), of sessions that are kept.
   */
  rotatedDeleted: number;
  /** Audit entries older than the retention deleted. */
  auditDeleted: number;
  /** True when another instance held the cleanup lock, so this one did nothing. */
  skipped: boolean;
}

/** A pass that failed part-way: `deleted` rows were already gone when `cause` happened. */
export class SessionCleanupError extends Error {
  constructor(
    readonly deleted: number,
    override readonly cause: unknown,
  ) {
    super(`Session cleanup failed after deleting ${deleted} rows: ${describe(cause)}`);
    this.name = 'SessionCleanupError';
  }
}

/**
 * Deletes sessions that ended (revoked, expired or idle) more than `retention` seconds ago, the
 * records of rotations (rotated-away refresh hashes) older than max(`refreshTtl`, `accessTtl`),
 * and audit entries older than `retention`, every `cleanupInterval` seconds, in batches of
 * `cleanupBatchSize` rows with a pause between them, so live traffic never waits behind a long
 * DELETE. One instance at a time: a pass runs
 * under the `HousekeepingLock` and is skipped when another instance holds it.
 *
 * The timer never throws (a database outage logs a warning and the next pass tries again),
 * is chained with `setTimeout` (passes never overlap) and unref'd (it never keeps the process
 * alive). Shutdown stops the timer and waits for a running pass, which stops after its current
 * batch. It does so already in `beforeApplicationShutdown`, before `@nestjs/typeorm` destroys the
 * DataSource in its `onApplicationShutdown`, so the last batch and the unlock still reach the
 * database.
 *
 * Why a rotation's record may go after max(`refreshTtl`, `accessTtl`): it serves two readers.
 * Reuse detection (`SessionService.refresh`): a rotated-away refresh token is never accepted
 * again — the store rotates only the session's current refresh hash — so the record only decides
 * how it is refused: while the record is kept, presenting it revokes a live session
 * (`reuse_detected`); once deleted, it is answered 401 `unknown` and the session stays. The token
 * was issued at some t before its rotation at r, and had it never been rotated it would have
 * stopped working at t + `refreshTtl` ≤ r + `refreshTtl` (the session's end is set to issue +
 * `refreshTtl`; only `SessionService.extend` moves it further): past that, a stolen old token is
 * refused whether or not it was rotated, and reuse detection reaches back `refreshTtl`. The
 * cache's reconciliation (`revokedAccessSince`): the access token a rotation replaced was issued
 * before it and expires at most `accessTtl` after its issue, so a record older than `accessTtl`
 * names an access token every cache refuses as expired anyway. (`accessTtl` may be set above
 * `refreshTtl`; nothing forbids it, hence the max.)
 */
@Injectable()
export class SessionCleanupService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('SessionCleanup');
  private readonly job = new RepeatingJob(
    () => this.pass(),
    (error) =>
      this.logger.warn(error instanceof SessionCleanupError ? error.message : `Session cleanup failed: ${describe(error)}`),
  );
  /** Ends the pause between two batches early (on shutdown). */
  private wake: (() => void) | undefined;

  constructor(
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: SessionCleanupOptions,
    private readonly store: SessionStore,
    private readonly lock: HousekeepingLock,
    private readonly clock: Clock,
    @Optional() private readonly audit?: AuditLog,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.cleanupInterval > 0) this.job.every(this.options.cleanupInterval, () => this.runOnce());
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Stops the timer and waits for a running pass; idempotent. */
  async stop(): Promise<void> {
    const stopped = this.job.stop();
    this.wake?.();
    await stopped;
  }

  /**
   * One cleanup pass now, under the lock. A call while this instance already runs a pass joins
   * that pass. Rejects (with `SessionCleanupError` once rows were deleted) when the store fails.
   * After shutdown it deletes nothing.
   */
  runOnce(): Promise<CleanupResult> {
    return this.job.runOnce();
  }

  private async pass(): Promise<CleanupResult> {
    if (this.job.stopping) return { deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false };
    const startedAt = Date.now();
    let deleted = 0;
    let rotatedDeleted = 0;
    let auditDeleted = 0;
    let batches = 0;
    const outcome = await this.lock.runExclusive(HOUSEKEEPING_JOBS.cleanup, async () => {
      const now = this.clock.now();
      const before = new Date(now - this.options.retention * 1000);
      const rotatedBefore = new Date(now - Math.max(this.options.refreshTtl, this.options.accessTtl) * 1000);
      const batchSize = this.options.cleanupBatchSize ?? DEFAULT_CLEANUP_BATCH_SIZE;
      const pauseMs = this.options.cleanupBatchPauseMs ?? DEFAULT_CLEANUP_BATCH_PAUSE_MS;
      /** Calls `deleteBatch` until a batch comes back short, pausing in between. */
      const drain = async (deleteBatch: () => Promise<number>, count: (n: number) => void) => {
        let first = true;
        while (!this.job.stopping) {
          if (!first && pauseMs > 0) await this.pause(pauseMs);
          if (this.job.stopping) break;
          first = false;
          const n = await deleteBatch();
          batches += 1;
          count(n);
          if (n < batchSize) break;
        }
      };
      try {
        await drain(
          () => this.store.deleteEnded(before, this.options.idleTtl, batchSize),
          (n) => (deleted += n),
        );
        // After the sessions: their rotation records went with them (ON DELETE CASCADE).
        await drain(
          () => this.store.deleteRotatedBefore(rotatedBefore, batchSize),
          (n) => (rotatedDeleted += n),
        );
        const audit = this.audit;
        if (audit) await drain(() => audit.deleteBefore(before, batchSize), (n) => (auditDeleted += n));
      } catch (error) {
        throw deleted > 0 ? new SessionCleanupError(deleted, error) : error;
      }
      return { before, rotatedBefore };
    });
    if (!outcome.acquired) {
      this.logger.debug('Session cleanup skipped: another instance holds the lock');
      return { deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: true };
    }
    const { before, rotatedBefore } = outcome.result;
    const summary =
      `Session cleanup deleted ${deleted} sessions and ${auditDeleted} audit entries from before ${before.toISOString()}, ` +
      `${rotatedDeleted} rotated refresh tokens from before ${rotatedBefore.toISOString()}, in ${batches} batch(es), ${Date.now() - startedAt} ms`;
    if (deleted + rotatedDeleted + auditDeleted > 0) this.logger.log(summary);
    else this.logger.debug(summary);
    return { deleted, rotatedDeleted, auditDeleted, skipped: false };
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
