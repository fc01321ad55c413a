import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Registry } from 'prom-client';
import type { AuditLog } from './ports/audit-log.js';
import type { CredentialsVerifier } from './ports/credentials-verifier.js';
import type { HousekeepingLock } from './ports/housekeeping-lock.js';
import type { LoginFailureCounter, LoginFailurePolicy } from './ports/login-failure-counter.js';
import type { SessionCache } from './ports/session-cache.js';
import type { LegacySessionSource } from './ports/legacy-session-source.js';
import type { SessionStore } from './ports/session-store.js';
import type { SocketPresence } from './ports/socket-presence.js';
import type { SessionBinding } from './session-binding.js';

/** A rate limit: `limit` hits per client IP in `ttl` seconds. */
export interface RateLimit {
  /** Hits allowed in one window. */
  limit: number;
  /** Window length in seconds. */
  ttl: number;
}

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
   * Where sessions live: the source of truth. `typeOrmSessionAdapters(dataSource)` gives the
   * PostgreSQL one (with `auditLog` and `lock`); any `SessionStore` that passes the
   * `sessionStoreContract` of the package's `testing` entry will do.
   * @default an in-memory store (this process only, lost on restart; a warning at start when `NODE_ENV=production`)
   */
  store?: SessionStore;

  /**
   * Where the audit trail of every lifecycle event is kept.
   * @default in memory (the latest 10,000 events)
   */
  auditLog?: AuditLog;

  /**
   * Lets one instance at a time run the housekeeping jobs (cleanup, expiry sweep).
   * @default an in-process lock (right for one instance)
   */
  lock?: HousekeepingLock;

  /**
   * The cache in front of the store. `redisSessionAdapters(redis)` gives the Redis one (shared by
   * every instance, with an in-process tier and instant invalidation).
   * @default an in-process cache of 10,000 sessions (one instance only)
   */
  cache?: SessionCache;

  /**
   * Where the rate-limit counters of the module's throttler are kept (a `@nestjs/throttler`
   * storage, under the module's own injection token: the app's own `ThrottlerModule` is untouched).
   * @default in process (per instance)
   */
  rateLimitStorage?: ThrottlerStorage;

  /**
   * Where failed logins per (account, network) are counted.
   * @default in process (per instance)
   */
  loginFailures?: LoginFailureCounter;

  /**
   * Which sockets (of gateways authenticated by `SessionSockets`) are open for which session, on
   * every instance, and the bus that closes them when their session ends anywhere.
   * `redisSessionAdapters(redis)` gives the Redis one.
   * @default in process (one instance; entries live 30 s unless renewed)
   */
  presence?: SocketPresence;

  /**
   * Seconds an access token lives.
   * @default 900
   */
  accessTtl?: number;

  /**
   * Seconds a refresh token lives; each refresh issues a new one. A rotated-away refresh token
   * presented again revokes its session as reuse for max(`refreshTtl`, `accessTtl`) after its
   * rotation; then the cleanup job forgets the rotation and it is refused as unknown.
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
   * (two tabs refreshing at once) without counting as reuse: it gets the same pair, after the
   * same checks as a refresh (from another client than `binding` allows, the session is revoked).
   * 0 turns it off.
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
   * The browser transport. `true`: login and refresh also set `__Host-access`, `__Secure-refresh`
   * (scoped to the login routes' path) and `__Host-csrf` cookies, and the guard accepts the access
   * cookie (with the signed CSRF value in `X-CSRF-Token` on unsafe methods); the tokens are in the
   * body as well. `'only'`: the same cookies, but no token in any body (login, refresh and
   * `SessionIssuer.issue` answer `{expiresIn, refreshExpiresIn, sessionId, user}`), so script on the
   * page (an XSS) can never read one; refresh then works from the refresh cookie alone. `false`:
   * bearer tokens only, no cookie set or read.
   * @default true
   */
  cookies?: boolean | 'only';

  /**
   * Longest time, in seconds, a session stays in the cache; shorter when the session ends sooner.
   * @default 300
   */
  cacheTtl?: number;

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
   * and audit entries older than `retention`, and the records of rotations (rotated-away refresh
   * token hashes) older than max(`refreshTtl`, `accessTtl`), in batches, one instance at a time
   * (PostgreSQL advisory lock). 0 turns the job off.
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
   * Rate limit per authenticated user, whatever the client address, over every route that needs
   * a session together (`@Public()` routes are not counted): one account cannot spread its load
   * over many addresses. Counted by `SessionUserThrottlerGuard` after `SessionAuthGuard`, in the
   * same storage as `rateLimit` (`rateLimitStorage`); global with the `throttle` and
   * `globalGuard` extras both on, otherwise put it on routes after `SessionAuthGuard`. A 429 has
   * one `Retry-After`, as every other. Null turns it off.
   * @default null (off)
   */
  userRateLimit?: RateLimit | null;

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
   * @default prom-client's global registry when the app has `prom-client` installed, else none
   */
  metrics?: Registry | false;

  /**
   * The sessions of the system this app moves away from, upgraded to sessions of this module on
   * their first use so nobody is logged out by the switch: `new ExpressSessionLegacySource({…})`
   * (express-session + connect-redis) or `new SqlTableLegacySource({…})` (a table with raw
   * tokens). Only requests without a token of this module are looked at.
   * @default null (off: legacy credentials mean nothing)
   */
  legacySessions?: LegacySessionSource | null;

  /**
   * Seconds back a login is compared with the user's earlier sessions (live or ended, until the
   * cleanup deletes them after `retention`): a browser and OS family, network (/24 IPv4, /48
   * IPv6) or device id none of them had makes a `new_device` event and audit entry, carrying the
   * browser, OS and network in words for the host to tell the user. A user with no session in it
   * (a first login, or back after longer than this) gets none. 0 turns the check off.
   * @default 2592000 (30 days)
   */
  newDeviceLookback?: number;

  /**
   * Most earlier sessions, the newest, a login is compared with (see `newDeviceLookback`).
   * @default 50
   */
  newDeviceLookbackSessions?: number;

  /**
   * Seconds a legacy credential keeps working after its upgrade, so parallel requests that carry
   * it all land in the one new session.
   * @default 10
   */
  legacySessionGrace?: number;
}

/** The ports an app may plug, each an adapter value (see `SessionModuleOptions`). */
export type SessionAdapterOptions = Pick<
  SessionModuleOptions,
  'store' | 'auditLog' | 'lock' | 'cache' | 'rateLimitStorage' | 'loginFailures' | 'presence'
>;

/** Options with every default filled in: the settings the module's parts read (adapters apart). */
export interface ResolvedSessionOptions
  extends Required<Omit<SessionModuleOptions, 'secret' | 'credentials' | 'metrics' | 'legacySessions' | keyof SessionAdapterOptions>> {
  legacySessions: LegacySessionSource | null;
  secrets: string[];
  /** The registry, or null when metrics are off. */
  metrics: Registry | null;
  credentials: CredentialsVerifier;
  /** Path of the login and refresh routes (`/auth`): the refresh cookie is scoped to it. */
  authPath: string;
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
  cacheTtl: 300,
  cleanupInterval: 300,
  retention: 2_592_000,
  sweepInterval: 60,
  legacySessionGrace: 10,
  newDeviceLookback: 2_592_000,
  newDeviceLookbackSessions: 50,
  loginRateLimit: { limit: 5, ttl: 60 },
  rateLimit: { limit: 100, ttl: 60 },
  userRateLimit: null,
  loginFailurePolicy: { freeAttempts: 5, windowSeconds: 900, maxBlockSeconds: 900 },
} as const;
