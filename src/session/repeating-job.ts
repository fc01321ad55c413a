/** Longest delay `setTimeout` honours (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The timing of a housekeeping job: run it now (a call during a run joins that run), or every
 * `intervalSeconds` — chained timeouts, so runs never overlap; unref'd, so the timer never keeps
 * the process alive; failures go to `onError`, never out of the timer. `stop()` ends it for good
 * and waits for a run in progress.
 */
export class RepeatingJob<T> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<T>;
  private stopped = false;

  constructor(
    private readonly run: () => Promise<T>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** True once `stop()` was called: a run in progress should finish early. */
  get stopping(): boolean {
    return this.stopped;
  }

  runOnce(): Promise<T> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** @param tick what the timer calls: `runOnce`, or the owner's own method that calls it */
  every(intervalSeconds: number, tick: () => Promise<unknown> = () => this.runOnce()): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      try {
        await tick();
      } catch (error) {
        this.onError(error);
      } finally {
        this.every(intervalSeconds, tick);
      }
    }, Math.min(intervalSeconds * 1000, MAX_TIMER_MS));
    this.timer.unref();
  }

  /** Stops the timer (at once) and waits for a run in progress; idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
