import { MemorySessionStore } from '../../src/session/adapters/memory/memory-session.store.js';
import type { SessionStore } from '../../src/session/ports/session-store.js';
import { never, Scheduler } from './scheduler.js';

/** What a process's queries depend on: once it died, they never settle. */
export interface Process {
  readonly dead: boolean;
}

/**
 * PostgreSQL: the real `MemorySessionStore`, shared by every instance (each of its methods is one
 * atomic statement, applied when the query arrives), behind a connection per process that adds
 * the run's latency, fails while the database is down, and may lose the reply of a statement
 * that committed.
 */
export class PostgresModel {
  readonly store = new MemorySessionStore();
  down = false;
  /** Every other reply (drawn from the run's seed) is lost after its statement committed: the connection broke. */
  losesReplies = false;

  constructor(private readonly scheduler: Scheduler) {}

  /** The store as `process` reaches it. */
  connect(process: Process): SessionStore {
    return new Proxy(this.store, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || property === 'constructor') return value;
        return (...args: unknown[]) => this.query(process, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  }

  private async query<T>(process: Process, statement: () => Promise<T>): Promise<T> {
    if (process.dead) return never();
    await this.scheduler.after(this.scheduler.delay('queryMs'));
    if (process.dead) return never();
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const result = await statement();
    const lost = this.losesReplies && this.scheduler.rng.next() < 0.5;
    await this.scheduler.after(this.scheduler.delay('queryMs'));
    if (process.dead) return never();
    if (lost) throw new Error('Connection terminated unexpectedly');
    return result;
  }
}
