import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AccountModule } from './account/account.module';
import { AppConfigModule } from './config/app-config.module';
import { AppEnv, redisConfigOf } from './config/app-env';
import { loadSessionSecrets } from './config/session-secret';
import { DatabaseUnavailableFilter } from './database/database-unavailable.filter';
import { DatabaseModule } from './database/database.module';
import { benchOff } from './http/bench-off';
import { HttpDrainOnShutdown } from './http/http-drain';
import { LoggingModule, type LoggingModuleOptions } from './logging/logging.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PingController } from './ping/ping.controller';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { RealtimeModule } from './realtime/realtime.module';
import { SignInAlertsModule } from './sign-in-alerts/sign-in-alerts.module';
import { ExpressSessionLegacySource, MemorySocketPresence, redisSessionAdapters, SessionAdminModule, SessionModule, typeOrmSessionAdapters } from './session';
import { UserAdminModule } from './users/user-admin.module';
import { UsersModule } from './users/users.module';
import { UsersService } from './users/users.service';

/** The monolith that hosts `SessionModule`: users, registration, an admin, and ping routes. */
@Module({})
export class AppModule {
  /**
   * @param env the variables to read; `process.env` (plus `.env`) when omitted
   * @param logging where the JSON logs go; standard output by default
   */
  static forRoot(env?: Record<string, string | undefined>, logging?: LoggingModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        LoggingModule.forRoot(logging),
        EventEmitterModule.forRoot({ wildcard: true }),
        DatabaseModule,
        UsersModule,
        MetricsModule,
        SessionModule.forRootAsync({
          // The monolith guards, rate-limits and maps errors app-wide; a library user chooses.
          globalGuard: true,
          throttle: !benchOff('throttle'),
          exceptionFilter: true,
          imports: [UsersModule],
          inject: [AppEnv, UsersService, Registry, DataSource],
          useFactory: (config: AppEnv, users: UsersService, metrics: Registry, dataSource: DataSource) => ({
            secret: loadSessionSecrets(config),
            credentials: users,
            ...typeOrmSessionAdapters(dataSource),
            ...sessionRedis(config),
            accessTtl: config.SESSION_ACCESS_TTL,
            refreshTtl: config.SESSION_REFRESH_TTL,
            idleTtl: config.SESSION_IDLE_TTL,
            absoluteTtl: config.SESSION_ABSOLUTE_TTL,
            maxSessionsPerUser: config.SESSION_MAX_PER_USER,
            refreshGrace: config.SESSION_REFRESH_GRACE,
            cookies: config.SESSION_COOKIES,
            binding: config.SESSION_BINDING,
            cleanupInterval: config.SESSION_CLEANUP_INTERVAL,
            retention: config.SESSION_RETENTION,
            loginRateLimit: { limit: config.THROTTLE_LOGIN_LIMIT, ttl: config.THROTTLE_LOGIN_TTL },
            rateLimit: { limit: config.THROTTLE_LIMIT, ttl: config.THROTTLE_TTL },
            userRateLimit: config.THROTTLE_USER_LIMIT ? { limit: config.THROTTLE_USER_LIMIT, ttl: config.THROTTLE_USER_TTL } : null,
            sweepInterval: config.SESSION_SWEEP_INTERVAL,
            metrics,
            legacySessions: legacySessions(config),
          }),
        }),
        SessionAdminModule.forRoot(),
        AccountModule,
        UserAdminModule,
        HealthModule,
        RealtimeModule.forRoot(env),
        SignInAlertsModule,
      ],
      controllers: [PingController],
      providers: [{ provide: APP_FILTER, useClass: DatabaseUnavailableFilter }, HttpDrainOnShutdown],
    };
  }
}

/** The express-session + connect-redis sessions to upgrade, when LEGACY_SESSION_SECRET is set. */
function legacySessions(config: AppEnv): ExpressSessionLegacySource | null {
  if (!config.LEGACY_SESSION_SECRET) return null;
  const redis = config.LEGACY_SESSION_REDIS_URL ?? config.REDIS_URL;
  if (!redis) throw new Error('LEGACY_SESSION_SECRET is set, but no Redis holds the legacy sessions: set LEGACY_SESSION_REDIS_URL or REDIS_URL');
  return new ExpressSessionLegacySource({
    secret: config.LEGACY_SESSION_SECRET.split(',').map((s) => s.trim()).filter(Boolean),
    redis,
    prefix: config.LEGACY_SESSION_PREFIX,
    cookieName: config.LEGACY_SESSION_COOKIE,
    userField: config.LEGACY_SESSION_USER_FIELD,
  });
}

/** The Redis adapters when the environment names a Redis (or a cluster); none otherwise. */
function sessionRedis(config: AppEnv) {
  const redis = redisConfigOf(config);
  return redis
    ? redisSessionAdapters(redis, {
        keyPrefix: config.REDIS_KEY_PREFIX,
        localCacheTtl: config.SESSION_LOCAL_CACHE_TTL,
        reconcileInterval: config.SESSION_CACHE_RECONCILE_INTERVAL,
        presenceTtl: config.SESSION_PRESENCE_TTL,
      })
    : { presence: new MemorySocketPresence(config.SESSION_PRESENCE_TTL * 1000) };
}
