import type { ThrottlerStorage } from '@nestjs/throttler';
import { SessionConfigurationError } from '../../errors/session-configuration.error.js';
import { LOGIN_THROTTLER } from '../../http/decorators/login-throttle.decorator.js';
import type { LoginFailureCounter } from '../../ports/login-failure-counter.js';
import type { SessionCache } from '../../ports/session-cache.js';
import { BatchingThrottlerStorage } from '../batching-throttler.storage.js';
import { MemoryLoginFailureCounter } from '../memory/memory-login-failure.counter.js';
import { MemoryThrottlerStorage } from '../memory/memory-throttler.storage.js';
import { SharedSessionCache } from '../shared-session.cache.js';
import { FallbackLoginFailureCounter } from './fallback-login-failure.counter.js';
import { FallbackThrottlerStorage } from './fallback-throttler.storage.js';
import { RedisConnectionConfig, SessionRedisConnection } from './redis-connection.js';
import { RedisInvalidationChannel } from './redis-invalidation.channel.js';
import { RedisLoginFailureCounter } from './redis-login-failure.counter.js';
import { RedisCacheTier } from './redis-cache.tier.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';
import { RedisSocketPresence } from './redis-socket.presence.js';
import type { SocketPresence } from '../../ports/socket-presence.js';

/** Prefix of the module's Redis keys unless told otherwise (nest-session-module). */
const DEFAULT_KEY_PREFIX = 'nsm:';

/** Options of `redisSessionAdapters`. */
export interface RedisSessionAdaptersOptions {
  /**
   * Prefix of every Redis key the adapters write (give each app sharing a Redis its own). Not
   * connect-redis's `sess:`, so an express-session store on the same Redis never lists, counts or
   * clears the module's keys.
   * @default 'nsm:'
   */
  keyPrefix?: string;
  /**
   * Seconds an instance trusts a session in its in-process tier. Changes reach every instance at
   * once through Redis pub/sub; this bounds the damage if one is ever missed. The tier is switched
   * off while the invalidation channel is unhealthy. 0 turns it off.
   * @default 10
   */
  localCacheTtl?: number;
  /**
   * Sessions the in-process tier holds at most.
   * @default 10000
   */
  localCacheSize?: number;
  /**
   * Seconds between two reconciliation rounds. Each round, one instance (a lease in Redis) reads
   * from PostgreSQL every access token that stopped being valid since the watermark kept in Redis,
   * marks them revoked there, tells every instance, and moves the watermark forward: the longest
   * a revocation whose instance could not reach Redis, and then died, is accepted by the others.
   * Costs one indexed query per interval (whatever the instance count).
   * @default 5
   */
  reconcileInterval?: number;
  /**
   * Seconds a socket counts as open (online) after its instance last renewed it; instances renew
   * every third of it. The longest an instance killed with sockets open leaves them counted.
   * @default 30
   */
  presenceTtl?: number;
}

/** The Redis adapters of the ports that gain from sharing state between instances. */
export interface RedisSessionAdapters {
  /**
   * Sessions cached in Redis behind an in-process tier, invalidated on every instance through
   * pub/sub; revocation marks that could not be written are retried, every end is reconciled
   * from the store every `reconcileInterval`, and after any fault an instance catches up with
   * the store before it reads Redis again.
   */
  cache: SessionCache;
  /** Rate-limit counters in Redis: login and refresh exact per hit, other routes batched. */
  rateLimitStorage: ThrottlerStorage;
  /** Failed-login counts in Redis. */
  loginFailures: LoginFailureCounter;
  /** Which sockets are open for which session on every instance, and the channel that closes them when it ends. */
  presence: SocketPresence;
}

/**
 * The Redis adapters, on one connection, to spread into `SessionModule.forRoot` options:
 *
 * ```ts
 * SessionModule.forRoot({ secret, credentials, ...redisSessionAdapters(process.env.REDIS_URL!) })
 * ```
 *
 * Every one of them keeps working while Redis is away (reads fall back to the store, counters to
 * this process) and heals by itself. The module closes the connection on shutdown if it opened
 * it (a URL, options or cluster nodes), never a client the app handed over. Needs the optional
 * peer `ioredis` (unless you pass a client you made with it).
 * @param redis a URL, ioredis options (Sentinel included), `{ clusterNodes }`, or an ioredis client
 */
export function redisSessionAdapters(redis: RedisConnectionConfig, options: RedisSessionAdaptersOptions = {}): RedisSessionAdapters {
  if (!redis || (typeof redis !== 'string' && typeof redis !== 'object')) {
    throw new SessionConfigurationError(
      `redisSessionAdapters needs a Redis URL, ioredis options, { clusterNodes } or a client; got ${redis === '' ? 'an empty string' : String(redis)} (is REDIS_URL set?)`,
    );
  }
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const localCacheTtl = options.localCacheTtl ?? 10;
  if (!Number.isInteger(localCacheTtl) || localCacheTtl < 0) {
    throw new SessionConfigurationError('redisSessionAdapters option "localCacheTtl" must be a whole number of seconds, 0 to turn the in-process tier off.');
  }
  const reconcileInterval = options.reconcileInterval ?? 5;
  if (!(typeof reconcileInterval === 'number' && reconcileInterval > 0 && reconcileInterval <= 3600)) {
    throw new SessionConfigurationError('redisSessionAdapters option "reconcileInterval" must be a number of seconds, more than 0 and at most 3600.');
  }
  const presenceTtl = options.presenceTtl ?? 30;
  if (!(typeof presenceTtl === 'number' && presenceTtl >= 1 && presenceTtl <= 3600)) {
    throw new SessionConfigurationError('redisSessionAdapters option "presenceTtl" must be a number of seconds, from 1 to 3600.');
  }
  const connection = new SessionRedisConnection(redis);
  const channel = new RedisInvalidationChannel(connection.client, connection.subscriber(), `${prefix}invalidate`);
  return {
    cache: new SharedSessionCache(new RedisCacheTier(connection, prefix), channel, {
      localTtlMs: localCacheTtl * 1000,
      localEntries: options.localCacheSize ?? 10_000,
      reconcileIntervalMs: reconcileInterval * 1000,
    }),
    rateLimitStorage: new FallbackThrottlerStorage(
      // Login stays exact and atomic across instances; other routes batch their counts, and count
      // in process by themselves while Redis fails: only login ever falls back.
      new BatchingThrottlerStorage(new RedisThrottlerStorage(connection, prefix), { exact: [LOGIN_THROTTLER] }),
      new MemoryThrottlerStorage(),
      [LOGIN_THROTTLER],
    ),
    loginFailures: new FallbackLoginFailureCounter(new RedisLoginFailureCounter(connection, prefix), new MemoryLoginFailureCounter()),
    presence: new RedisSocketPresence(connection, prefix, presenceTtl * 1000),
  };
}
