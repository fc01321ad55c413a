import { destination, type DestinationStream, type LevelWithSilent } from 'pino';
import { PinoLogger } from 'nestjs-pino';

/**
 * The destination the process's pino logger writes to, which an app can point elsewhere.
 *
 * nestjs-pino 5 builds one pino-http instance (and so one pino logger) per process, from the
 * options of the first app that asks for it, and ignores the options of apps created after it in
 * the same process — as the e2e suites do. Each app therefore points this shared destination at
 * its own, and sets the level of the logger if it exists already (`useLogTarget`). Two apps alive
 * at once in one process share whichever target was set last.
 */
class SwitchableDestination implements DestinationStream {
  private standardOutput?: DestinationStream;
  private target?: DestinationStream;

  write(line: string): void {
    (this.target ?? this.stdout()).write(line);
  }

  /** @param target where lines go from now on; standard output when omitted */
  switchTo(target: DestinationStream | undefined): void {
    this.target = target;
  }

  private stdout(): DestinationStream {
    // pino's own default: asynchronous writes to fd 1, flushed when the process exits.
    this.standardOutput ??= destination(1);
    return this.standardOutput;
  }
}

/** The one destination of the process's app logs. */
export const appLogDestination = new SwitchableDestination();

/** Points the process's app logs at `target` (standard output when omitted) and `level`. */
export function useLogTarget(target: DestinationStream | undefined, level: LevelWithSilent): void {
  appLogDestination.switchTo(target);
  // Set once the first app has built the logger; the first app's level comes from its options.
  if (PinoLogger.root) PinoLogger.root.level = level;
}
