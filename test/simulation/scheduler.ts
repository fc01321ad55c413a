import { Rng } from './entropy.js';

/** Largest one-way delays of a run, in milliseconds (0: answered in the same tick, no timer). */
export interface Latency {
  /** A Redis command or reply, one way. */
  commandMs: number;
  /** A pub/sub message from Redis to a subscriber. */
  messageMs: number;
  /** A PostgreSQL query or its result, one way. */
  queryMs: number;
  /** Every hop takes exactly its maximum (explicit schedules that need a race to go one way). */
  exact?: boolean;
  /**
   * Subscribers read a published message when it reaches them, maybe after the publisher has
   * Redis's answer (else every healthy subscriber has handled it by then). @default false
   */
  late?: boolean;
}

/**
 * When things happen: every delay of a run is drawn here, from the run's seed, and waited for on
 * the fake clock. Messages and replies drawn different delays overtake each other: that is the
 * reordering.
 */
export class Scheduler {
  readonly rng: Rng;

  constructor(
    seed: number,
    private readonly latency: Latency,
  ) {
    this.rng = new Rng(seed);
  }

  /** A delay for one hop of this kind: none half the time (the fast path costs no timer), else up to the run's maximum. */
  delay(kind: 'commandMs' | 'messageMs' | 'queryMs'): number {
    const max = this.latency[kind];
    if (this.latency.exact || max === 0) return max;
    if (this.rng.next() < 0.5) return 0;
    return 1 + this.rng.below(max);
  }

  /** Runs `fn` after `ms` of fake time; at once (synchronously) for 0. */
  run(ms: number, fn: () => void): void {
    if (ms === 0) fn();
    else setTimeout(fn, ms);
  }

  /** Resolves after `ms` of fake time; after a microtask for 0. */
  after(ms: number): Promise<void> {
    return ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** What a process that died is left waiting for: nothing ever settles it. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
