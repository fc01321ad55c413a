import type { AdapterContext, AdapterLifecycle } from '../../ports/adapter-lifecycle.js';
import { LoginFailureCounter, LoginFailurePolicy } from '../../ports/login-failure-counter.js';
import { ThrottledWarning } from '../../runtime/throttled-warning.js';

/** Counts in Redis while it answers, in this process while it does not; never fails a login for it. */
export class FallbackLoginFailureCounter extends LoginFailureCounter implements AdapterLifecycle {
  private readonly warning = new ThrottledWarning('SessionLoginLimiter');

  constructor(
    private readonly primary: LoginFailureCounter & AdapterLifecycle,
    private readonly fallback: LoginFailureCounter,
  ) {
    super();
  }

  async start(context: AdapterContext): Promise<void> {
    await this.primary.start?.(context);
  }

  async close(): Promise<void> {
    await this.primary.close?.();
  }

  blockedFor(key: string, nowMs: number): Promise<number> {
    return this.either((c) => c.blockedFor(key, nowMs));
  }

  override check(key: string, nowMs: number): Promise<{ blockedFor: number; recorded: boolean }> {
    return this.either((c) => c.check(key, nowMs));
  }

  fail(key: string, nowMs: number, policy: LoginFailurePolicy): Promise<number> {
    return this.either((c) => c.fail(key, nowMs, policy));
  }

  reset(key: string): Promise<void> {
    return this.either((c) => c.reset(key));
  }

  private async either<T>(call: (counter: LoginFailureCounter) => Promise<T>): Promise<T> {
    try {
      return await call(this.primary);
    } catch (error) {
      this.warning.warn(`Failed-login counters in Redis unavailable, counting in process: ${(error as Error).message}`);
      return call(this.fallback);
    }
  }
}
