import { ExclusiveRun, HousekeepingLock } from '../../ports/housekeeping-lock.js';

/**
 * The in-process `HousekeepingLock`: whoever shares this instance shares the lock. Right for the
 * memory store, whose sessions live in one process anyway.
 */
export class MemoryHousekeepingLock extends HousekeepingLock {
  private readonly held = new Set<string>();

  /** True while a task of `job` runs under this lock. */
  isHeld(job: string): boolean {
    return this.held.has(job);
  }

  async runExclusive<T>(job: string, task: () => Promise<T>): Promise<ExclusiveRun<T>> {
    if (this.held.has(job)) return { acquired: false };
    this.held.add(job);
    try {
      return { acquired: true, result: await task() };
    } finally {
      this.held.delete(job);
    }
  }
}
