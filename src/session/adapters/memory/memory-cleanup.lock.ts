import { CleanupLock, ExclusiveRun } from '../../ports/cleanup-lock.js';

/**
 * The in-process `CleanupLock`: whoever shares this instance shares the lock. Right for the
 * memory store, whose sessions live in one process anyway.
 */
export class MemoryCleanupLock extends CleanupLock {
  private held = false;

  /** True while a task runs under this lock. */
  get isHeld(): boolean {
    return this.held;
  }

  async runExclusive<T>(task: () => Promise<T>): Promise<ExclusiveRun<T>> {
    if (this.held) return { acquired: false };
    this.held = true;
    try {
      return { acquired: true, result: await task() };
    } finally {
      this.held = false;
    }
  }
}
