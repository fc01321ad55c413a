import { Logger } from '@nestjs/common';

/**
 * Fake time for a simulation file: timers and `Date` (vitest's fake timers), and
 * `performance.now`, which lru-cache reads for the in-process tier's TTLs (it keeps the object it
 * found at load, so the global cannot simply be swapped). Nest's logger is silenced.
 */
export function useSimulatedTime(): void {
  beforeAll(() => {
    Logger.overrideLogger(false);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'] });
    vi.spyOn(performance, 'now').mockImplementation(() => Date.now());
  });
  afterAll(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    Logger.overrideLogger(true);
  });
}
