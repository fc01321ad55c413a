import { OnApplicationShutdown, Provider } from '@nestjs/common';
import { ThrottledWarning } from './throttled-warning.js';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import {
  getOptionsToken,
  getStorageToken,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import type { DataSource } from 'typeorm';
import { MemoryLoginFailureCounter } from './adapters/memory/memory-login-failure.counter.js';
import { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
import { MemoryCleanupLock } from './adapters/memory/memory-cleanup.lock.js';
import { MemoryThrottlerStorage } from './adapters/memory/memory-throttler.storage.js';
import { BatchingThrottlerStorage } from './adapters/batching-throttler.storage.js';
import { advisoryLockKey, SESSION_CLEANUP_LOCK_KEY, TypeOrmCleanupLock } from './adapters/typeorm/typeorm-cleanup.lock.js';
import { MemoryAuditLog } from './adapters/memory/memory-audit.log.js';
import { TypeOrmAuditLog } from './adapters/typeorm/typeorm-audit.log.js';
import { AuditLog } from './ports/audit-log.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { CleanupLock } from './ports/cleanup-lock.js';
import { FallbackLoginFailureCounter } from './adapters/redis/fallback-login-failure.counter.js';
import { RedisLoginFailureCounter } from './adapters/redis/redis-login-failure.counter.js';
import { LoginFailureCounter } from './ports/login-failure-counter.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { FallbackThrottlerStorage } from './adapters/redis/fallback-throttler.storage.js';
import { connectRedis, OwnedRedis, subscriberFor } from './adapters/redis/redis-connection.js';
import { RedisSessionCache } from './adapters/redis/redis-session.cache.js';
import { RedisInvalidationChannel } from './adapters/redis/redis-invalidation.channel.js';
import { ResilientSessionCache } from './adapters/resilient-session.cache.js';
import { ReconcilingSessionCache } from './adapters/reconciling-session.cache.js';
import { TieredSessionCache } from './adapters/tiered-session.cache.js';
import { RedisThrottlerStorage } from './adapters/redis/redis-throttler.storage.js';
import { TypeOrmSessionStore } from './adapters/typeorm/typeorm-session.store.js';
import { LOGIN_THROTTLE_KEY } from './http/decorators/login-throttle.decorator.js';
import { Clock, SystemClock } from './ports/clock.js';
import { SessionCache } from './ports/session-cache.js';
import { SessionStore } from './ports/session-store.js';
import { resolveSessionOptions } from './resolve-options.js';
import { SESSION_MODULE_OPTIONS } from './session.module-definition.js';
import { RESOLVED_SESSION_OPTIONS, SESSION_REDIS, SESSION_SWEEP_LOCK } from './session.constants.js';
import type { ResolvedSessionOptions, SessionModuleOptions } from './session.options.js';

/** Closes the Redis client the module opened itself (never one the app handed over). */
export class SessionRedisCloser implements OnApplicationShutdown {
  constructor(private readonly redis: OwnedRedis | null) {}

  async onApplicationShutdown(): Promise<void> {
    this.redis?.breaker.stop();
    if (this.redis?.owned) await this.redis.client.quit().catch(() => this.redis?.client.disconnect());
  }
}

/** The app's TypeORM DataSource the store adapters use. */
function dataSourceOf(options: ResolvedSessionOptions, moduleRef: ModuleRef): DataSource {
  return moduleRef.get<DataSource>(getDataSourceToken(options.dataSourceName), { strict: false });
}

/** The throttler of login and refresh (`@LoginThrottle()`), counted exactly on every hit. */
const LOGIN_THROTTLER = 'login';

/** A cluster-wide lock for one housekeeping job: an advisory lock with its own key, or in process. */
function housekeepingLock(token: symbol | typeof CleanupLock, key: string): Provider {
  return {
    provide: token,
    inject: [RESOLVED_SESSION_OPTIONS, ModuleRef],
    useFactory: (options: ResolvedSessionOptions, moduleRef: ModuleRef): CleanupLock =>
      options.store === 'memory' ? new MemoryCleanupLock() : new TypeOrmCleanupLock(dataSourceOf(options, moduleRef), key),
  };
}

const isLoginRoute = (context: { getHandler(): object; getClass(): object }) =>
  Reflect.getMetadata(LOGIN_THROTTLE_KEY, context.getHandler()) === true ||
  Reflect.getMetadata(LOGIN_THROTTLE_KEY, context.getClass()) === true;

/** Binds each port to its adapter, picked from the options in one place. */
export const sessionProviders: Provider[] = [
  {
    provide: RESOLVED_SESSION_OPTIONS,
    inject: [SESSION_MODULE_OPTIONS],
    useFactory: (options: SessionModuleOptions) => resolveSessionOptions(options),
  },
  { provide: Clock, useClass: SystemClock },
  {
    provide: SESSION_REDIS,
    inject: [RESOLVED_SESSION_OPTIONS],
    useFactory: async (options: ResolvedSessionOptions): Promise<OwnedRedis | null> => {
      if (!options.redis) return null;
      const redis = connectRedis(options.redis);
      const warning = new ThrottledWarning('SessionRedis');
      redis.client.on('error', (error: Error) => warning.warn(`Redis: ${error.message}`));
      // Start even when Redis is away: the module works without it and reconnects later.
      await new Promise<void>((resolve) => {
        if (redis.client.status === 'ready') return resolve();
        const timer = setTimeout(resolve, 3000);
        redis.client.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return redis;
    },
  },
  {
    provide: SessionRedisCloser,
    inject: [SESSION_REDIS],
    useFactory: (redis: OwnedRedis | null) => new SessionRedisCloser(redis),
  },
  {
    provide: SessionStore,
    inject: [RESOLVED_SESSION_OPTIONS, ModuleRef],
    useFactory: (options: ResolvedSessionOptions, moduleRef: ModuleRef): SessionStore =>
      options.store === 'memory'
        ? new MemorySessionStore()
        : new TypeOrmSessionStore(dataSourceOf(options, moduleRef)),
  },
  housekeepingLock(CleanupLock, SESSION_CLEANUP_LOCK_KEY),
  housekeepingLock(SESSION_SWEEP_LOCK, advisoryLockKey('nest-session-module:sessions-sweep')),
  {
    provide: AuditLog,
    inject: [RESOLVED_SESSION_OPTIONS, ModuleRef],
    useFactory: (options: ResolvedSessionOptions, moduleRef: ModuleRef): AuditLog =>
      options.store === 'memory' ? new MemoryAuditLog() : new TypeOrmAuditLog(dataSourceOf(options, moduleRef)),
  },
  {
    provide: SessionMetrics,
    inject: [RESOLVED_SESSION_OPTIONS],
    useFactory: (options: ResolvedSessionOptions) => new SessionMetrics(options.metrics === false ? null : options.metrics),
  },
  {
    provide: RedisInvalidationChannel,
    inject: [RESOLVED_SESSION_OPTIONS, SESSION_REDIS],
    useFactory: (options: ResolvedSessionOptions, redis: OwnedRedis | null) =>
      redis
        ? new RedisInvalidationChannel(
            redis.client,
            subscriberFor(redis.client),
            `${options.redisKeyPrefix}invalidate`,
          )
        : null,
  },
  {
    // Without Redis: one in-process cache. With Redis: a resilient L1 + Redis stack.
    provide: SessionCache,
    inject: [RESOLVED_SESSION_OPTIONS, SESSION_REDIS, RedisInvalidationChannel, SessionStore],
    useFactory: (
      options: ResolvedSessionOptions,
      redis: OwnedRedis | null,
      channel: RedisInvalidationChannel | null,
      store: SessionStore,
    ): SessionCache => {
      if (!redis || !channel) return new MemorySessionCache(options.memoryCacheSize, options.cacheTtl);
      const shared = new RedisSessionCache(redis.client, options.redisKeyPrefix, redis.breaker, options.cacheTtl);
      const layered =
        options.localCacheTtl > 0
          ? new TieredSessionCache(shared, channel, {
              maxEntries: options.memoryCacheSize,
              ttlMs: options.localCacheTtl * 1000,
            })
          : shared;
      return new ReconcilingSessionCache(
        new ResilientSessionCache(layered),
        store,
        () => !redis.breaker.isOpen && channel.healthy,
      );
    },
  },
  {
    provide: LoginFailureCounter,
    inject: [RESOLVED_SESSION_OPTIONS, SESSION_REDIS],
    useFactory: (options: ResolvedSessionOptions, redis: OwnedRedis | null): LoginFailureCounter =>
      redis
        ? new FallbackLoginFailureCounter(
            new RedisLoginFailureCounter(redis.client, options.redisKeyPrefix, redis.breaker),
            new MemoryLoginFailureCounter(),
          )
        : new MemoryLoginFailureCounter(),
  },
  {
    provide: getStorageToken(),
    inject: [RESOLVED_SESSION_OPTIONS, SESSION_REDIS],
    useFactory: (options: ResolvedSessionOptions, redis: OwnedRedis | null): ThrottlerStorage =>
      redis
        ? new FallbackThrottlerStorage(
            // Login stays exact and atomic across instances; other routes batch their counts.
            new BatchingThrottlerStorage(new RedisThrottlerStorage(redis.client, options.redisKeyPrefix, redis.breaker), {
              exact: [LOGIN_THROTTLER],
            }),
            new MemoryThrottlerStorage(),
          )
        : new MemoryThrottlerStorage(),
  },
  {
    provide: getOptionsToken(),
    inject: [RESOLVED_SESSION_OPTIONS],
    useFactory: (options: ResolvedSessionOptions): ThrottlerModuleOptions => ({
      throttlers: [
        {
          name: 'default',
          limit: options.rateLimit.limit,
          ttl: options.rateLimit.ttl * 1000,
          skipIf: isLoginRoute,
        },
        {
          name: LOGIN_THROTTLER,
          limit: options.loginRateLimit.limit,
          ttl: options.loginRateLimit.ttl * 1000,
          skipIf: (context) => !isLoginRoute(context),
        },
      ],
    }),
  },
];
