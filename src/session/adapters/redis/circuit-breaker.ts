/** Thrown instead of calling Redis while the breaker is open. */
export class CircuitOpenError extends Error {
  constructor() {
    super('Redis circuit open: not trying Redis for a moment');
    this.name = this.constructor.name;
  }
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 3 */
  failureThreshold?: number;
  /** Milliseconds the circuit stays open before one trial call (or between probes). @default 1000 */
  openMs?: number;
  /**
   * A cheap check (e.g. Redis PING) run in the background while the circuit is open; its success
   * closes the circuit. With a probe no request ever pays for a trial; without one, the first
   * call after `openMs` is the trial.
   */
  probe?: () => Promise<unknown>;
}

/**
 * Stops calling Redis for `openMs` after `failureThreshold` failures in a row, so a dead or
 * frozen Redis costs each request nothing instead of a command timeout. After the pause one call
 * goes through (half-open): success closes the circuit, failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private trialInFlight = false;
  private probing?: NodeJS.Timeout;
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly probe?: () => Promise<unknown>;

  constructor(options: CircuitBreakerOptions = {}, private readonly now: () => number = Date.now) {
    this.threshold = options.failureThreshold ?? 3;
    this.openMs = options.openMs ?? 1000;
    this.probe = options.probe;
  }

  /** True while calls are refused. */
  get isOpen(): boolean {
    if (this.failures < this.threshold) return false;
    return this.probe !== undefined || this.now() < this.openUntil || this.trialInFlight;
  }

  /** Stops background probing (on shutdown). */
  stop(): void {
    clearTimeout(this.probing);
    this.probing = undefined;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const tripped = this.failures >= this.threshold;
    if (tripped && this.probe) throw new CircuitOpenError();
    if (tripped && (this.now() < this.openUntil || this.trialInFlight)) throw new CircuitOpenError();
    if (tripped) this.trialInFlight = true;
    try {
      const result = await call();
      this.failures = 0;
      return result;
    } catch (error) {
      this.failures += 1;
      if (this.failures >= this.threshold) {
        this.openUntil = this.now() + this.openMs;
        this.startProbing();
      }
      throw error;
    } finally {
      if (tripped) this.trialInFlight = false;
    }
  }

  private startProbing(): void {
    if (!this.probe || this.probing) return;
    const tick = async () => {
      try {
        await this.probe!();
        this.failures = 0;
        this.probing = undefined;
      } catch {
        this.probing = setTimeout(tick, this.openMs).unref();
      }
    };
    this.probing = setTimeout(tick, this.openMs).unref();
  }
}
