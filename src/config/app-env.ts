import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  validateSync,
} from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
/** `only`, a yes or a no; anything else stays as written, for the check to name it. */
const toCookieMode = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const word = String(value).trim().toLowerCase();
  if (word === 'only') return 'only';
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return value;
};

/**
 * Every environment variable the app reads, with its default. The contract's table and
 * `.env.example` list the same names.
 */
export class AppEnv {
  /** @default 'development' */
  @IsOptional() @IsString() NODE_ENV: string = 'development';
  /** @default 3000 */
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT: number = 3000;
  /** Unset: embedded PostgreSQL (PGlite) under DATA_DIR. */
  @IsOptional() @IsString() DATABASE_URL?: string;
  /** Unset: in-process cache and rate-limit counters. */
  @IsOptional() @IsString() REDIS_URL?: string;
  /** @default './.data' */
  @IsString() DATA_DIR: string = './.data';
  /** Comma-separated; the first signs. Required in production, else made once under DATA_DIR. */
  @IsOptional() @IsString() SESSION_SECRET?: string;
  @IsOptional() @IsString() ADMIN_EMAIL?: string;
  @IsOptional() @IsString() ADMIN_PASSWORD?: string;
  /** @default 900 */
  @Transform(toInt) @IsInt() @Min(1) SESSION_ACCESS_TTL: number = 900;
  /** @default 604800 */
  @Transform(toInt) @IsInt() @Min(1) SESSION_REFRESH_TTL: number = 604_800;
  /** @default 604800 */
  @Transform(toInt) @IsInt() @Min(1) SESSION_IDLE_TTL: number = 604_800;
  /** @default 2592000 */
  @Transform(toInt) @IsInt() @Min(1) SESSION_ABSOLUTE_TTL: number = 2_592_000;
  /** @default 10 */
  @Transform(toInt) @IsInt() @Min(1) SESSION_MAX_PER_USER: number = 10;
  /** @default 10 */
  @Transform(toInt) @IsInt() @Min(0) SESSION_REFRESH_GRACE: number = 10;
  /**
   * `true`: login and refresh set the session cookies and return the tokens in the body too;
   * `only`: the cookies, and no token in any body; `false`: bearer tokens only. @default true
   */
  @Transform(toCookieMode) @IsIn([true, false, 'only'], { message: 'SESSION_COOKIES must be true, false or only' })
  SESSION_COOKIES: boolean | 'only' = true;
  /** What ties a session to its client: off | ua | ip. @default 'ua' */
  @IsIn(['off', 'ua', 'ip']) SESSION_BINDING: 'off' | 'ua' | 'ip' = 'ua';
  /** Seconds between two cleanup passes; 0 turns the job off. @default 300 */
  @Transform(toInt) @IsInt() @Min(0) @Max(2_147_483) SESSION_CLEANUP_INTERVAL: number = 300;
  /** @default 2592000 */
  @Transform(toInt) @IsInt() @Min(0) SESSION_RETENTION: number = 2_592_000;
  /** Seconds between two expiry sweeps (expired events, concurrency samples); 0 turns the timer off. @default 60 */
  @Transform(toInt) @IsInt() @Min(0) @Max(2_147_483) SESSION_SWEEP_INTERVAL: number = 60;
  /** @default 5 */
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_LOGIN_LIMIT: number = 5;
  /** @default 60 */
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_LOGIN_TTL: number = 60;
  /** @default 100 */
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_LIMIT: number = 100;
  /** @default 60 */
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_TTL: number = 60;
  /** Requests per authenticated user per THROTTLE_USER_TTL on routes that need a session, whatever the address; unset: off. @default unset (off) */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) THROTTLE_USER_LIMIT?: number;
  /** @default 60 */
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_USER_TTL: number = 60;
  /** Set (to `true`, a hop count, or Express trust-proxy addresses) to read the client IP from X-Forwarded-For. */
  @IsOptional() @IsString() TRUST_PROXY?: string;
  /** @default 'express' */
  @IsIn(['express', 'fastify']) HTTP_ADAPTER: 'express' | 'fastify' = 'express';
  /** `host:port,…` of a Redis Cluster, used instead of REDIS_URL. */
  @IsOptional() @IsString() REDIS_CLUSTER_NODES?: string;
  /** `host:port,…` of Redis Sentinels, asked for the master `REDIS_SENTINEL_NAME`; used instead of REDIS_URL. */
  @IsOptional() @IsString() REDIS_SENTINELS?: string;
  /** The master's name in the sentinels' configuration (with REDIS_SENTINELS). @default 'mymaster' */
  @IsString() REDIS_SENTINEL_NAME: string = 'mymaster';
  /** Seconds a session is trusted in the in-process cache (with Redis); 0 turns it off. @default 10 */
  @Transform(toInt) @IsInt() @Min(0) SESSION_LOCAL_CACHE_TTL: number = 10;
  /** Seconds between two reconciliation rounds of the Redis cache with PostgreSQL (with Redis). @default 5 */
  @Transform(toInt) @IsInt() @Min(1) @Max(3600) SESSION_CACHE_RECONCILE_INTERVAL: number = 5;
  /** Key prefix of everything the app writes to Redis (not connect-redis's `sess:`). @default 'nsm:' */
  @IsString() REDIS_KEY_PREFIX: string = 'nsm:';
  /** Seconds a socket counts as online after its instance last renewed it (the longest a killed instance's sockets linger). @default 30 */
  @Transform(toInt) @IsInt() @Min(1) @Max(3600) SESSION_PRESENCE_TTL: number = 30;
  /** Comma-separated origins whose pages may open a socket with the access cookie; unset: the app's own host only. */
  @IsOptional() @IsString() SOCKET_ORIGINS?: string;
  /** What the real-time gateway speaks: socket.io at `/socket.io`, or plain WebSockets at `/ws`. @default 'socket.io' */
  @IsIn(['socket.io', 'ws']) REALTIME_TRANSPORT: 'socket.io' | 'ws' = 'socket.io';
  /** Lowest level logged: fatal | error | warn | info | debug | trace | silent. @default 'info' */
  /** express-session secret(s), comma-separated: turns on the upgrade of live express-session + connect-redis sessions. */
  @IsOptional() @IsString() LEGACY_SESSION_SECRET?: string;
  /** The legacy sessions' Redis (default REDIS_URL). */
  @IsOptional() @IsString() LEGACY_SESSION_REDIS_URL?: string;
  /** connect-redis's key prefix. */
  @IsString() LEGACY_SESSION_PREFIX: string = 'sess:';
  /** express-session's cookie name. */
  @IsString() LEGACY_SESSION_COOKIE: string = 'connect.sid';
  /** Dotted path of the user id in the stored session (default `userId`, then `passport.user`). */
  @IsOptional() @IsString() LEGACY_SESSION_USER_FIELD?: string;

  @IsIn(LOG_LEVELS) LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';
  /** Format of the log lines; JSON (one object per line) is the only one. @default 'json' */
  @IsIn(['json']) LOG_FORMAT = 'json' as const;
}

/** The Redis the app uses: a cluster when REDIS_CLUSTER_NODES is set, Sentinel when REDIS_SENTINELS is, else REDIS_URL, else none. */
export function redisConfigOf(env: AppEnv): string | { clusterNodes: string[] } | { sentinels: string[]; name: string } | undefined {
  if (env.REDIS_CLUSTER_NODES) return { clusterNodes: hostPorts(env.REDIS_CLUSTER_NODES) };
  if (env.REDIS_SENTINELS) return { sentinels: hostPorts(env.REDIS_SENTINELS), name: env.REDIS_SENTINEL_NAME };
  return env.REDIS_URL;
}

const hostPorts = (list: string) => list.split(',').map((n) => n.trim());
const HOST_PORT_LIST = /^\s*[^\s:,]+:\d+\s*(,\s*[^\s:,]+:\d+\s*)*$/;

/** Reads and checks the environment; a bad value stops start-up with a message naming it. */
export function parseAppEnv(env: Record<string, string | undefined>): AppEnv {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = plainToInstance(AppEnv, present, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { whitelist: false, skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  for (const name of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const) {
    const list = parsed[name];
    if (list !== undefined && !HOST_PORT_LIST.test(list)) throw new Error(`Invalid environment:\n  ${name}: must be host:port,host:port,…`);
  }
  if (parsed.REDIS_CLUSTER_NODES !== undefined && parsed.REDIS_SENTINELS !== undefined) {
    throw new Error('Invalid environment:\n  REDIS_SENTINELS: set either REDIS_CLUSTER_NODES (a Redis Cluster) or REDIS_SENTINELS (Sentinel), not both');
  }
  if (!/^[^\s]+$/.test(parsed.REDIS_SENTINEL_NAME)) throw new Error('Invalid environment:\n  REDIS_SENTINEL_NAME: must be the master\'s name, without spaces');
  return parsed;
}
