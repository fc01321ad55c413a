import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ExclusiveRun, HousekeepingLock } from '../../ports/housekeeping-lock.js';

/** A stable signed 64-bit advisory-lock key for a name (first 8 bytes of its SHA-256). */
export function advisoryLockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

/** The advisory-lock key of a housekeeping job, the same in every instance and version of the module. */
export const jobLockKey = (job: string): string => advisoryLockKey(`nest-session-module:${job}`);

/** The part of a `pg` client (or of typeorm-pglite's pool) the lock talks to. */
interface LockConnection {
  query(sql: string, params: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  removeListener(event: 'error', listener: (error: unknown) => void): unknown;
}

/** The TypeORM postgres driver's pool access: `release(error)` destroys a broken connection. */
interface PooledDriver {
  obtainMasterConnection(): Promise<[unknown, (error?: unknown) => void]>;
}

/** Keys held by this process, per DataSource (PGlite has one session: its locks are re-entrant). */
const heldInProcess = new WeakMap<DataSource, Set<string>>();

/**
 * `HousekeepingLock` on PostgreSQL session-level advisory locks (`pg_try_advisory_lock`, one key
 * per job), so one instance at a time runs a job across every process that shares the database.
 *
 * The lock lives on a connection taken from the DataSource's pool for the length of the task and
 * idle meanwhile; the task's own statements run on other pooled connections, each short, so no
 * transaction stays open and no row lock is held between them. The lock is released in `finally`;
 * if the connection broke (or the unlock failed) it is destroyed instead of returned to the pool,
 * and the server drops the lock with the session. A crashed instance therefore never leaves the
 * lock behind.
 *
 * Embedded PGlite has a single session, on which advisory locks are re-entrant: there another
 * process cannot open the same data directory anyway, and overlapping runs inside this process
 * are refused by an in-process guard kept per DataSource.
 */
export class TypeOrmHousekeepingLock extends HousekeepingLock {
  /** @param keyOf the signed 64-bit advisory-lock key of a job; `jobLockKey` by default */
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyOf: (job: string) => string = jobLockKey,
  ) {
    super();
  }

  async runExclusive<T>(job: string, task: () => Promise<T>): Promise<ExclusiveRun<T>> {
    const key = this.keyOf(job);
    let held = heldInProcess.get(this.dataSource);
    if (!held) heldInProcess.set(this.dataSource, (held = new Set()));
    if (held.has(key)) return { acquired: false };
    held.add(key);
    try {
      return await this.underAdvisoryLock(key, task);
    } finally {
      held.delete(key);
    }
  }

  private async underAdvisoryLock<T>(key: string, task: () => Promise<T>): Promise<ExclusiveRun<T>> {
    const [raw, release] = await this.driver().obtainMasterConnection();
    const connection = raw as LockConnection;
    let broken: unknown;
    const onError = (error: unknown) => {
      broken ??= error;
    };
    connection.on('error', onError);
    let acquired = false;
    try {
      try {
        const { rows } = await connection.query(
          'SELECT pg_try_advisory_lock($1::bigint) AS acquired',
          [key],
        );
        acquired = rows[0]?.acquired === true;
      } catch (error) {
        // The lock may have been taken with the answer lost: never reuse this connection.
        broken ??= error;
        throw error;
      }
      if (!acquired) return { acquired: false };
      return { acquired: true, result: await task() };
    } finally {
      if (acquired && broken === undefined) {
        try {
          await connection.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
        } catch (error) {
          broken = error;
        }
      }
      connection.removeListener('error', onError);
      release(broken);
    }
  }

  private driver(): PooledDriver {
    const driver = this.dataSource.driver as unknown as Partial<PooledDriver>;
    if (this.dataSource.options.type !== 'postgres' || typeof driver.obtainMasterConnection !== 'function') {
      throw new Error(
        `TypeOrmHousekeepingLock needs a PostgreSQL (or PGlite) DataSource, got "${this.dataSource.options.type}"`,
      );
    }
    return driver as PooledDriver;
  }
}
