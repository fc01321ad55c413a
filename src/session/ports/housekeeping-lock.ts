/** What `HousekeepingLock.runExclusive` reports: the task's result, or that another holder was busy. */
export type ExclusiveRun<T> = { acquired: true; result: T } | { acquired: false };

/**
 * "Run this job only if no other instance is running it": a non-blocking, cluster-wide mutex per
 * job name, for the module's housekeeping jobs (`sessions-cleanup`, `sessions-sweep`). Never waits
 * for the lock: when another holder has it, `runExclusive` returns `{ acquired: false }` at once
 * and the task does not run. The lock is released when the task settles, whether it resolved or
 * threw. Different job names never block each other.
 *
 * Adapters: `TypeOrmHousekeepingLock` (a PostgreSQL advisory lock per job, PGlite included) and
 * `MemoryHousekeepingLock` (one process).
 */
export abstract class HousekeepingLock {
  /** Runs `task` while holding the lock of `job`, or returns `{ acquired: false }` if another holds it. */
  abstract runExclusive<T>(job: string, task: () => Promise<T>): Promise<ExclusiveRun<T>>;
}

/** The module's job names. */
export const HOUSEKEEPING_JOBS = {
  /** Deletes sessions and audit entries past their retention. */
  cleanup: 'sessions-cleanup',
  /** Records the sessions whose time ran out, and samples the live count. */
  sweep: 'sessions-sweep',
} as const;
