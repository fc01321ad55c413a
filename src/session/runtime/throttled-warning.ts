import { Logger } from '@nestjs/common';

/** A warning logged at most once per `everyMs`, for faults that repeat on every request. */
export class ThrottledWarning {
  private readonly logger: Logger;
  private last = 0;

  constructor(context: string, private readonly everyMs = 10_000) {
    this.logger = new Logger(context);
  }

  warn(message: string): void {
    const now = Date.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    this.logger.warn(message);
  }
}
