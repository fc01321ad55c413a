import { DynamicModule, MiddlewareConsumer, Module, NestModule, Provider } from '@nestjs/common';
import { jsonSafety } from './http/json-safety.middleware.js';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { AdminSessionsController } from './http/admin-sessions.controller.js';
import { AdminOperationsController } from './http/admin-operations.controller.js';
import { AdminPageController } from './http/admin-page/admin-page.controller.js';
import { AuthSessionController } from './http/auth-session.controller.js';
import { FreshSessionGuard } from './http/guards/fresh-session.guard.js';
import { RolesGuard } from './http/guards/roles.guard.js';
import { SessionAuthGuard } from './http/guards/session-auth.guard.js';
import { SessionThrottlerGuard } from './http/guards/session-throttler.guard.js';
import { SessionStrategy } from './http/guards/session.strategy.js';
import { SessionExceptionFilter } from './http/session-exception.filter.js';
import { SessionCache } from './ports/session-cache.js';
import { SessionStore } from './ports/session-store.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import {
  SESSION_ASYNC_OPTIONS_TYPE,
  SESSION_OPTIONS_TYPE,
  SessionConfigurableModule,
} from './session.module-definition.js';
import { sessionProviders } from './session.providers.js';
import { SessionService } from './session.service.js';
import { LoginService } from './login.service.js';
import { SessionCleanupService } from './session-cleanup.service.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionHealth } from './session-health.js';
import { SessionStatsService } from './session-stats.service.js';
import { SessionSweepService } from './session-sweep.service.js';
import { AuditLog } from './ports/audit-log.js';
import { SessionMetrics } from './metrics/session-metrics.js';

/**
 * Sessions kept in PostgreSQL and cached in Redis, with login, refresh, logout, own-session
 * and admin routes, a passport guard and a rate limiter.
 *
 * ```ts
 * SessionModule.forRootAsync({
 *   imports: [UsersModule],
 *   inject: [UsersService],
 *   useFactory: (users: UsersService) => ({ secret: process.env.SESSION_SECRET!, credentials: users }),
 * })
 * ```
 */
@Module({
  imports: [PassportModule],
  controllers: [AuthSessionController, AdminSessionsController, AdminOperationsController, AdminPageController],
  providers: [
    ...sessionProviders,
    SessionService,
    LoginService,
    SessionCleanupService,
    SessionEventPublisher,
    SessionSweepService,
    SessionStatsService,
    SessionHealth,
    SessionStrategy,
    SessionAuthGuard,
    RolesGuard,
    FreshSessionGuard,
    SessionThrottlerGuard,
    { provide: APP_FILTER, useClass: SessionExceptionFilter },
  ],
  exports: [
    SessionService,
    LoginService,
    SessionCleanupService,
    SessionEventPublisher,
    SessionSweepService,
    SessionStatsService,
    SessionHealth,
    SessionMetrics,
    AuditLog,
    SessionStore,
    SessionCache,
    SessionAuthGuard,
    RolesGuard,
    FreshSessionGuard,
    SessionThrottlerGuard,
    RESOLVED_SESSION_OPTIONS,
    getOptionsToken(),
    getStorageToken(),
  ],
})
export class SessionModule extends SessionConfigurableModule implements NestModule {
  /** The module's own routes refuse unsafe JSON even when the app installs no such guard. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(jsonSafety).forRoutes(AuthSessionController, AdminSessionsController);
  }

  static override forRoot(options: typeof SESSION_OPTIONS_TYPE): DynamicModule {
    return withGlobalGuards(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof SESSION_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withGlobalGuards(super.forRootAsync(options), options);
  }
}

/** Throttle first, then authenticate, then check roles: the order of these APP_GUARDs. */
function withGlobalGuards(
  module: DynamicModule,
  extras: { globalGuard?: boolean; throttle?: boolean },
): DynamicModule {
  const guards: Provider[] = [];
  if (extras.throttle !== false) guards.push({ provide: APP_GUARD, useExisting: SessionThrottlerGuard });
  if (extras.globalGuard !== false) {
    guards.push({ provide: APP_GUARD, useExisting: SessionAuthGuard });
    guards.push({ provide: APP_GUARD, useExisting: RolesGuard });
  }
  return { ...module, providers: [...(module.providers ?? []), ...guards] };
}
