import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import type { CredentialsVerifier } from './ports/credentials-verifier.js';
import type { SessionBinding } from './session-binding.js';
import type { LoginFailurePolicy } from './ports/login-failure-counter.js';

/** Which adapter keeps the sessions (the source of truth). */
export type SessionStoreKind = 'typeorm' | 'memory';

/** A rate limit: `limit` hits per client IP in `ttl` seconds. */
export interface RateLimit {
  /** Hits allowed in one window. */
  limit: number;
  /** Window length in seconds. */
  ttl: number;
}

/** Where the module's Redis is: see `SessionModuleOptions.redis`. */
export type RedisConfig = string | RedisOptions | Redis | Cluster | { clusterNodes: string[] };

/** Options of `SessionModule.forRoot()` / `forRootAsync()`. */
export interface SessionModuleOptions {
  /**
   * Key(s) that authenticate tokens (HMAC-SHA256). A token the server never issued is refused
   * before any I/O. With several keys, the first signs and all verify (key rotation).
   * Each key must be at least 32 characters.
   */
  secret: string | string[];

  /** Verifies credentials at login and loads users; supplied by the host app. */
  credentials: CredentialsVerifier;

  /**
   * Seconds an access token lives.
   * @default 900
   */
  accessTtl?: number;

  /**
   * Seconds a refresh token lives; each refresh issues a new one.
   * @default 604800 (7 days)
   */
  refreshTtl?: number;

  /**
   * Seconds of inactivity after which a session is over (sliding).
   * @default 604800 (7 days)
   */
  idleTtl?: number;

  /**
   * Seconds after login beyond which no session lives, whatever its refreshes or extensions.
   * @default 2592000 (30 days)
   */
  absoluteTtl?: number;

  /**
   * Live sessions one user may hold; a further login evicts the least recently used one.
   * @default 10
   */
  maxSessionsPerUser?: number;

  /**
   * Seconds in which the refresh token rotated away just before may be presented again
   * (two tabs refreshing at once) without counting as reuse. 0 turns it off.
   * @default 10
   */
  refreshGrace?: number;

  /**
   * What ties a session to the client that opened it. A request that breaks the binding revokes
   * the session (`hijack_suspected`) and is refused: `ua` compares the browser and OS family,
   * `ip` the network (/24 IPv4, /48 IPv6; mobile clients that change networks get logged out),
   * `off` nothing.
   * @default 'ua'
   */
  binding?: SessionBinding;

  /**
   * Last activity is written to the store at most once per this many seconds, so a busy session
   * costs no write per request.
   * @default min(60, idleTtl / 20)
   */
  activityWriteInterval?: number;

  /**
   * Login and refresh also set `__Host-access`, `__Secure-refresh` (scoped to `/auth`) and
   * `__Host-csrf` cookies, and the guard accepts the access cookie (with a CSRF header on
   * unsafe methods).
   * @default true
   */
  cookies?: boolean;

  /**
   * Session store adapter. `typeorm` uses the default TypeORM `DataSource` of the app
   * (PostgreSQL or PGlite), whose entities and migrations must include `SESSION_ENTITIES` and
   * `SESSION_MIGRATIONS`; `memory` keeps sessions in this process (tests only).
   * @default 'typeorm'
   */
  store?: SessionStoreKind;

  /**
   * Name of the TypeORM data source, when the app has several.
   * @default the default data source
   */
  dataSourceName?: string;

  /**
   * Redis for the session cache and the rate-limit counters: a URL (`redis://`, `rediss://`),
   * ioredis options, `{ clusterNodes: ['host:port', …] }` for a Redis Cluster, or a client the
   * app owns (`Redis` or `Cluster`; the module then never closes it).
   * Unset: an in-process cache and in-process counters (one instance only).
   * @default undefined
   */
  redis?: RedisConfig;

  /**
   * Prefix of every Redis key the module writes.
   * @default 'sess:'
   */
  redisKeyPrefix?: string;

  /**
   * Longest time, in seconds, a session stays in the cache; shorter when the session ends sooner.
   * @default 300
   */
  cacheTtl?: number;

  /**
   * Sessions kept in the in-process cache: the only cache without Redis, the L1 in front of it
   * with Redis.
   * @default 10000
   */
  memoryCacheSize?: number;

  /**
   * Seconds an instance trusts a session in its in-process L1 cache (with Redis). Changes reach
   * every instance at once through Redis pub/sub; this bounds the damage if one is ever missed.
   * The L1 is switched off while the invalidation channel is unhealthy. 0 turns the L1 off.
   * @default 10
   */
  localCacheTtl?: number;

  /**
   * Rate limit of login and refresh, per client IP.
   * @default { limit: 5, ttl: 60 }
   */
  loginRateLimit?: RateLimit;

  /**
   * Failed logins per (account, client network): free attempts, then a delay of 1, 2, 4 … seconds
   * (429 with `Retry-After`) up to a cap; a success resets it. Other networks are not affected,
   * so an attacker cannot lock the real user out.
   * @default { freeAttempts: 5, windowSeconds: 900, maxBlockSeconds: 900 }
   */
  loginFailurePolicy?: LoginFailurePolicy;

  /**
   * Seconds between two runs of the job that deletes ended sessions (revoked, expired or idle)
   * older than `retention`, in batches, one instance at a time (PostgreSQL advisory lock).
   * 0 turns the job off.
   * @default 300
   */
  cleanupInterval?: number;

  /**
   * Seconds an ended session is kept (for the audit and stats) before the cleanup job deletes it.
   * @default 2592000 (30 days)
   */
  retention?: number;

  /**
   * Rate limit of every other route guarded by `SessionThrottlerGuard`, per client IP.
   * @default { limit: 100, ttl: 60 }
   */
  rateLimit?: RateLimit;

  /**
   * Seconds between two runs of the job that records sessions whose time ran out (an `expired`
   * event each, for the audit trail and listeners) and samples how many sessions are live (for
   * the peak concurrency), one instance at a time. 0 turns the timer off (the statistics still
   * run it when asked).
   * @default 60
   */
  sweepInterval?: number;

  /**
   * The prom-client registry the module's series go to (`session_validations_total`, …). Give
   * each app instance in one process its own; `false` registers none.
   * @default prom-client's global registry
   */
  metrics?: Registry | false;
}

/** Options with every default filled in: what the module's parts read. */
export interface ResolvedSessionOptions
  extends Required<
    Omit<SessionModuleOptions, 'secret' | 'redis' | 'dataSourceName' | 'credentials' | 'metrics'>
  > {
  secrets: string[];
  metrics: Registry | false;
  credentials: CredentialsVerifier;
  redis?: RedisConfig;
  dataSourceName?: string;
}

export const SESSION_DEFAULTS = {
  accessTtl: 900,
  refreshTtl: 604_800,
  idleTtl: 604_800,
  absoluteTtl: 2_592_000,
  maxSessionsPerUser: 10,
  refreshGrace: 10,
  binding: 'ua' as SessionBinding,
  cookies: true,
  store: 'typeorm' as SessionStoreKind,
  redisKeyPrefix: 'sess:',
  cacheTtl: 300,
  memoryCacheSize: 10_000,
  localCacheTtl: 10,
  cleanupInterval: 300,
  retention: 2_592_000,
  sweepInterval: 60,
  loginRateLimit: { limit: 5, ttl: 60 },
  rateLimit: { limit: 100, ttl: 60 },
  loginFailurePolicy: { freeAttempts: 5, windowSeconds: 900, maxBlockSeconds: 900 },
} as const;
