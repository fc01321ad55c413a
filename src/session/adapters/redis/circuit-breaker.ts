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
  /** Milliseconds the circuit stays open before one trial call. @default 1000 */
  openMs?: number;
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
  private readonly threshold: number;
  private readonly openMs: number;

  constructor(options: CircuitBreakerOptions = {}, private readonly now: () => number = Date.now) {
    this.threshold = options.failureThreshold ?? 3;
    this.openMs = options.openMs ?? 1000;
  }

  /** True while calls are refused. */
  get isOpen(): boolean {
    return this.failures >= this.threshold && (this.now() < this.openUntil || this.trialInFlight);
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const tripped = this.failures >= this.threshold;
    if (tripped && (this.now() < this.openUntil || this.trialInFlight)) throw new CircuitOpenError();
    if (tripped) this.trialInFlight = true;
    try {
      const result = await call();
      this.failures = 0;
      return result;
    } catch (error) {
      this.failures += 1;
      if (this.failures >= this.threshold) this.openUntil = this.now() + this.openMs;
      throw error;
    } finally {
      if (tripped) this.trialInFlight = false;
    }
  }
}
