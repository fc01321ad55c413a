import type { Cluster, Redis } from 'ioredis';

/** A command timeout above this holds each request that long on a frozen Redis. */
const LONGEST_COMMAND_TIMEOUT_MS = 1000;

/** The client settings `hangingSettings` reads (a `Redis`'s options, or a `Cluster`'s per-node ones). */
interface ClientSettings {
  enableOfflineQueue?: boolean;
  commandTimeout?: number;
  maxRetriesPerRequest?: number | null;
}

/**
 * The settings of an ioredis client that would make a request wait on Redis instead of failing
 * fast — and so falling back to PostgreSQL or to counting in process — each with what to set:
 *
 * - `enableOfflineQueue` not false: while Redis is away, commands wait in a queue for the
 *   reconnection (or for `maxRetriesPerRequest` reconnection attempts);
 * - no `commandTimeout`, or above 1000 ms: a frozen Redis (socket open, nothing answering) holds
 *   every request until the socket breaks, and the circuit breaker never opens;
 * - `maxRetriesPerRequest: null`: a command is retried across reconnections for ever.
 *
 * Empty when the client fails fast, as the module's own (`REQUEST_PATH_REDIS_OPTIONS`) does.
 */
export function hangingSettings(client: Redis | Cluster): string[] {
  const cluster = (client as { isCluster?: boolean }).isCluster === true;
  const options = (client as { options?: ClientSettings & { redisOptions?: ClientSettings } }).options ?? {};
  const perCommand: ClientSettings = cluster ? (options.redisOptions ?? {}) : options;
  const found: string[] = [];
  if (options.enableOfflineQueue !== false) found.push('enableOfflineQueue is not false (set it false)');
  const timeout = perCommand.commandTimeout;
  if (!(typeof timeout === 'number' && timeout > 0)) found.push(`commandTimeout is unset (set it, e.g. 100${cluster ? ', in redisOptions' : ''})`);
  else if (timeout > LONGEST_COMMAND_TIMEOUT_MS) found.push(`commandTimeout is ${timeout} ms (at most ${LONGEST_COMMAND_TIMEOUT_MS}; the module's is 100)`);
  if (perCommand.maxRetriesPerRequest === null) found.push(`maxRetriesPerRequest is null (set it, e.g. 1${cluster ? ', in redisOptions' : ''})`);
  return found;
}

/** The start-up warning for a client with `hangingSettings`, or null when it fails fast. */
export function hangingSettingsWarning(client: Redis | Cluster, handedOver: boolean): string | null {
  const found = hangingSettings(client);
  if (found.length === 0) return null;
  const whose = handedOver ? 'The Redis client handed to redisSessionAdapters' : 'The Redis options given to redisSessionAdapters';
  return (
    `${whose} can make requests wait on a Redis that is away or frozen, instead of falling back at once: ${found.join('; ')}. ` +
    (handedOver
      ? 'Make it with the module\'s settings (new Redis(url, REQUEST_PATH_REDIS_OPTIONS)), or pass a URL or options and let the module make it.'
      : 'Leave these to the module (REQUEST_PATH_REDIS_OPTIONS).')
  );
}
