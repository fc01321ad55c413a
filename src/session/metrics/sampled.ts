/**
 * A value read at most every `maxAgeMs` (for gauges computed when scraped): callers within that
 * age share one read, in flight or done. A read that fails is not kept: the next call tries again.
 */
export class Sampled<T> {
  private last?: { at: number; value: Promise<T> };

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const nowMs = this.now();
    if (!this.last || nowMs - this.last.at >= this.maxAgeMs) {
      const value = this.read();
      const kept = { at: nowMs, value };
      value.catch(() => {
        if (this.last === kept) this.last = undefined;
      });
      this.last = kept;
    }
    return this.last.value;
  }
}
