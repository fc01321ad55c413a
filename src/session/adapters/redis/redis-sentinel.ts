import type { RedisOptions } from 'ioredis';

/** The master's name a Sentinel group is asked for unless told otherwise (Redis's own example name). */
export const DEFAULT_SENTINEL_MASTER_NAME = 'mymaster';

/**
 * A Redis behind Sentinel, as `redisSessionAdapters` takes it: the sentinels to ask where the
 * master is, and its name; any other ioredis option (`password`, `sentinelPassword`, `tls`,
 * `db`…) passes through, over the module's fast-fail settings.
 *
 * ```ts
 * redisSessionAdapters({ sentinels: ['10.0.0.1:26379', '10.0.0.2:26379', '10.0.0.3:26379'], name: 'mymaster' })
 * ```
 */
export interface RedisSentinelConfig extends Omit<RedisOptions, 'sentinels' | 'name'> {
  /** The sentinels: `host:port` strings or `{ host, port }` (one is enough to start; ioredis learns the others from it). */
  sentinels: Array<string | { host: string; port: number }>;
  /**
   * The master's name in the sentinels' configuration (`sentinel monitor <name> …`).
   * @default 'mymaster'
   */
  name?: string;
}

/** True for a Sentinel configuration (`{ sentinels: [...] }`). */
export function isSentinelConfig(config: unknown): config is RedisSentinelConfig {
  return typeof config === 'object' && config !== null && Array.isArray((config as { sentinels?: unknown }).sentinels);
}

/** `host:port` → `{ host, port }`; throws on anything else. */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^\s*([^\s:,]+):(\d{1,5})\s*$/.exec(text);
  if (!match || Number(match[2]) > 65535) throw new Error(`"${text}" is not host:port`);
  return { host: match[1], port: Number(match[2]) };
}

/** A READONLY reply: the connection reached a master demoted to replica by a failover. */
const READONLY = /^READONLY\b/;

/**
 * ioredis options for a Sentinel group, on top of the request path's fast-fail settings:
 *
 * - the master is asked of the sentinels at every (re)connection, and ioredis checks the server
 *   it reaches says it is a master (`role`);
 * - no `failoverDetector` (ioredis's `+switch-master` listener), as in ioredis: in ioredis 5 a
 *   `+switch-master` that arrives while the client is reconnecting ends the client for good
 *   (status `end`, "Connection is closed."; seen in 2 of 6 runs of the failover test). The
 *   sentinels close every client's connection to a master they demote, which is what makes the
 *   client follow a failover; a master cut off from the sentinels keeps its clients until the split
 *   heals (what they revoke meanwhile is marked again by the reconciliation rounds);
 * - a READONLY reply (a master demoted while the connection stood) reconnects, to the new master
 *   (the command itself fails: the module's callers fall back or retry);
 * - `sentinelCommandTimeout`: a frozen sentinel costs a reconnection 500 ms, and the next one is asked;
 * - reconnection retries at most every 500 ms (not 2 s): after a failover the new master is
 *   there to be reached, and each try costs a question to a sentinel and a connection.
 */
export function sentinelClientOptions(config: RedisSentinelConfig, requestPath: RedisOptions): RedisOptions {
  const { sentinels, name, ...rest } = config;
  return {
    ...requestPath,
    retryStrategy: (attempt: number) => Math.min(attempt * 50, 500),
    sentinelRetryStrategy: (attempt: number) => Math.min(attempt * 50, 500),
    sentinelCommandTimeout: 500,
    reconnectOnError: (error: Error) => READONLY.test(error.message),
    ...rest,
    sentinels: sentinels.map((s) => (typeof s === 'string' ? parseHostPort(s) : s)),
    name: name ?? DEFAULT_SENTINEL_MASTER_NAME,
    role: 'master',
  };
}
