import { DynamicModule, Inject, Logger, Module, OnModuleInit, Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuthSessionController } from './http/auth-session.controller.js';
import { FreshSessionGuard } from './http/guards/fresh-session.guard.js';
import { RolesGuard } from './http/guards/roles.guard.js';
import { SessionAuthGuard } from './http/guards/session-auth.guard.js';
import { SessionThrottlerGuard } from './http/guards/session-throttler.guard.js';
import { SessionUserThrottlerGuard } from './http/guards/session-user-throttler.guard.js';
import { SessionStrategy } from './http/guards/session.strategy.js';
import { mountController } from './http/mount-controller.js';
import { SessionExceptionFilter } from './http/session-exception.filter.js';
import { SessionIssuer } from './http/session-issuer.js';
import { SessionPaths } from './http/session-paths.js';
import { LegacySessionUpgrader } from './legacy/legacy-session.upgrader.js';
import { LoginService } from './login.service.js';
import { NewDeviceDetector } from './new-device/new-device-detector.js';
import { PasswordAttempts } from './password-attempts.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { AuditLog } from './ports/audit-log.js';
import { Clock } from './ports/clock.js';
import { HousekeepingLock } from './ports/housekeeping-lock.js';
import { LoginFailureCounter } from './ports/login-failure-counter.js';
import { SessionCache } from './ports/session-cache.js';
import { SessionStore } from './ports/session-store.js';
import { SocketPresence } from './ports/socket-presence.js';
import { SessionSocketGuard } from './realtime/session-socket.guard.js';
import { SessionSockets } from './realtime/session-sockets.service.js';
import { SessionAdapters } from './session-adapters.js';
import { SessionCleanupService } from './session-cleanup.service.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionHealth } from './session-health.js';
import { SessionStatsService } from './session-stats.service.js';
import { SessionSweepService } from './session-sweep.service.js';
import {
  RESOLVED_SESSION_OPTIONS,
  SESSION_EXTRAS,
  SESSION_THROTTLER_OPTIONS,
  SESSION_THROTTLER_STORAGE,
  SESSION_USER_THROTTLER_OPTIONS,
} from './session.constants.js';
import {
  ResolvedSessionExtras,
  SESSION_ASYNC_OPTIONS_TYPE,
  SESSION_EXTRAS_DEFAULTS,
  SESSION_OPTIONS_TYPE,
  SessionConfigurableModule,
  SessionModuleExtras,
} from './session.module-definition.js';
import { sessionProviders } from './session.providers.js';
import type { ResolvedSessionOptions } from './session.options.js';
import { SessionService } from './session.service.js';

/**
 * Server-side sessions: login, refresh with rotation and reuse detection, logout, own sessions,
 * a passport guard, roles and a rate limiter. Adapters are values (in memory by default):
 *
 * ```ts
 * SessionModule.forRootAsync({
 *   inject: [DataSource, UsersService],
 *   useFactory: (dataSource: DataSource, users: UsersService) => ({
 *     secret: process.env.SESSION_SECRET!,
 *     credentials: users,
 *     ...typeOrmSessionAdapters(dataSource),
 *     ...redisSessionAdapters(process.env.REDIS_URL!),
 *   }),
 *   globalGuard: true,
 * })
 * ```
 *
 * It mounts its routes at `/auth` and nothing else: the global guard, a global rate limit and a
 * global exception filter are extras (`SessionModuleExtras`), off unless asked for; it logs at
 * start what it took.
 */
@Module({
  imports: [PassportModule],
  providers: [
    ...sessionProviders,
    SessionService,
    PasswordAttempts,
    LoginService,
    NewDeviceDetector,
    SessionIssuer,
    SessionPaths,
    SessionCleanupService,
    SessionEventPublisher,
    SessionSweepService,
    SessionStatsService,
    SessionHealth,
    SessionStrategy,
    LegacySessionUpgrader,
    SessionAuthGuard,
    RolesGuard,
    FreshSessionGuard,
    SessionThrottlerGuard,
    SessionUserThrottlerGuard,
    SessionExceptionFilter,
    SessionSockets,
    SessionSocketGuard,
  ],
  exports: [
    LegacySessionUpgrader,
    SessionService,
    PasswordAttempts,
    LoginService,
    NewDeviceDetector,
    SessionIssuer,
    SessionPaths,
    SessionCleanupService,
    SessionEventPublisher,
    SessionSweepService,
    SessionStatsService,
    SessionHealth,
    SessionMetrics,
    SessionStore,
    SessionCache,
    AuditLog,
    HousekeepingLock,
    LoginFailureCounter,
    Clock,
    SessionStrategy,
    SessionAuthGuard,
    RolesGuard,
    FreshSessionGuard,
    SessionThrottlerGuard,
    SessionUserThrottlerGuard,
    SessionExceptionFilter,
    SessionSockets,
    SessionSocketGuard,
    SocketPresence,
    RESOLVED_SESSION_OPTIONS,
    SESSION_THROTTLER_OPTIONS,
    SESSION_USER_THROTTLER_OPTIONS,
    SESSION_THROTTLER_STORAGE,
  ],
})
export class SessionModule extends SessionConfigurableModule implements OnModuleInit {
  constructor(
    @Inject(SESSION_EXTRAS) private readonly extras: ResolvedSessionExtras,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly adapters: SessionAdapters,
    private readonly paths: SessionPaths,
  ) {
    super();
  }

  /** Says what the module took of the app, and on what it runs. */
  onModuleInit(): void {
    const { extras, options } = this;
    const logger = new Logger('SessionModule');
    logger.log(
      [
        extras.routes === false ? 'routes: none (routes: false)' : `routes: ${this.paths.auth} (login, refresh, logout, me, sessions)`,
        `global guard: ${extras.globalGuard ? 'on (every route needs a session unless @Public())' : 'off (use @UseGuards(SessionAuthGuard))'}`,
        `global rate limit: ${extras.throttle ? `on (${options.rateLimit.limit} per ${options.rateLimit.ttl} s per client IP)` : 'off'}`,
        `per-user rate limit: ${options.userRateLimit && extras.throttle && extras.globalGuard ? `on (${options.userRateLimit.limit} per ${options.userRateLimit.ttl} s per user)` : options.userRateLimit ? 'on routes with SessionUserThrottlerGuard' : 'off'}`,
        `global exception filter: ${extras.exceptionFilter ? 'on' : 'off'}`,
        `providers ${extras.isGlobal ? 'global' : 'local to the importing module'}`,
        `metrics: ${options.metrics ? 'on' : 'off'}`,
      ].join('; '),
    );
    logger.log(`Adapters: ${this.adapters.describe()}`);
  }

  static override forRoot(options: typeof SESSION_OPTIONS_TYPE): DynamicModule {
    return withExtras(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof SESSION_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withExtras(super.forRootAsync(options), options);
  }
}

/** The module's shape from its extras: its routes, and each global effect asked for. */
function withExtras(module: DynamicModule, given: SessionModuleExtras): DynamicModule {
  const extras: ResolvedSessionExtras = {
    isGlobal: given.isGlobal ?? SESSION_EXTRAS_DEFAULTS.isGlobal,
    globalGuard: given.globalGuard ?? SESSION_EXTRAS_DEFAULTS.globalGuard,
    throttle: given.throttle ?? SESSION_EXTRAS_DEFAULTS.throttle,
    routes: given.routes ?? SESSION_EXTRAS_DEFAULTS.routes,
    exceptionFilter: given.exceptionFilter ?? SESSION_EXTRAS_DEFAULTS.exceptionFilter,
  };
  // Throttle by address first, then authenticate, then throttle by user (`userRateLimit`; it
  // needs the session, and counts refused roles too), then check roles: the order of these APP_GUARDs.
  const providers: Provider[] = [{ provide: SESSION_EXTRAS, useValue: extras }];
  if (extras.throttle) providers.push({ provide: APP_GUARD, useExisting: SessionThrottlerGuard });
  if (extras.globalGuard) {
    providers.push({ provide: APP_GUARD, useExisting: SessionAuthGuard });
    if (extras.throttle) providers.push({ provide: APP_GUARD, useExisting: SessionUserThrottlerGuard });
    providers.push({ provide: APP_GUARD, useExisting: RolesGuard });
  }
  if (extras.exceptionFilter) providers.push({ provide: APP_FILTER, useExisting: SessionExceptionFilter });
  return {
    ...module,
    global: extras.isGlobal,
    controllers: extras.routes === false ? [] : [mountController(AuthSessionController, extras.routes)],
    providers: [...(module.providers ?? []), ...providers],
  };
}
