/** What `CleanupLock.runExclusive` reports: the task's result, or that another holder was busy. */
export type ExclusiveRun<T> = { acquired: true; result: T } | { acquired: false };

/**
 * "Run this only if no other instance is running it": a non-blocking, cluster-wide mutex for
 * housekeeping jobs such as the periodic session cleanup. Never waits for the lock: when another
 * holder has it, `runExclusive` returns `{ acquired: false }` at once and the task does not run.
 * The lock is released when the task settles, whether it resolved or threw.
 *
 * Adapters: `TypeOrmCleanupLock` (PostgreSQL advisory lock, PGlite included) and
 * `MemoryCleanupLock` (one process).
 */
export abstract class CleanupLock {
  /** Runs `task` while holding the lock, or returns `{ acquired: false }` if another holds it. */
  abstract runExclusive<T>(task: () => Promise<T>): Promise<ExclusiveRun<T>>;
}
