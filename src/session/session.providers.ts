import type { InjectionToken, Provider } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import { LOGIN_THROTTLE_KEY, LOGIN_THROTTLER } from './http/decorators/login-throttle.decorator.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { AuditLog } from './ports/audit-log.js';
import { Clock, SystemClock } from './ports/clock.js';
import { HousekeepingLock } from './ports/housekeeping-lock.js';
import { LoginFailureCounter } from './ports/login-failure-counter.js';
import { SessionCache } from './ports/session-cache.js';
import { isObservableCache } from './ports/cache-observation.js';
import { SessionStore } from './ports/session-store.js';
import { SocketPresence } from './ports/socket-presence.js';
import { resolveSessionOptions } from './resolve-options.js';
import { SessionAdapters } from './session-adapters.js';
import {
  RESOLVED_SESSION_OPTIONS,
  SESSION_EXTRAS,
  SESSION_THROTTLER_OPTIONS,
  SESSION_USER_THROTTLER_OPTIONS,
  SESSION_THROTTLER_STORAGE,
} from './session.constants.js';
import { ResolvedSessionExtras, SESSION_MODULE_OPTIONS } from './session.module-definition.js';
import type { ResolvedSessionOptions, SessionModuleOptions } from './session.options.js';

const isLoginRoute = (context: { getHandler(): object; getClass(): object }) =>
  Reflect.getMetadata(LOGIN_THROTTLE_KEY, context.getHandler()) === true ||
  Reflect.getMetadata(LOGIN_THROTTLE_KEY, context.getClass()) === true;

/** One port: the adapter `SessionAdapters` picked for it. */
const port = <T>(token: InjectionToken, pick: (adapters: SessionAdapters) => T): Provider => ({
  provide: token,
  inject: [SessionAdapters],
  useFactory: pick,
});

/** The options, the adapter behind each port, the clock, the metrics and the module's own throttler settings. */
export const sessionProviders: Provider[] = [
  {
    provide: RESOLVED_SESSION_OPTIONS,
    inject: [SESSION_MODULE_OPTIONS, SESSION_EXTRAS],
    useFactory: (options: SessionModuleOptions, extras: ResolvedSessionExtras) => resolveSessionOptions(options, extras),
  },
  SessionAdapters,
  port(SessionStore, (a) => a.store),
  port(SessionCache, (a) => a.cache),
  port(AuditLog, (a) => a.auditLog),
  port(HousekeepingLock, (a) => a.lock),
  port(LoginFailureCounter, (a) => a.loginFailures),
  port(SESSION_THROTTLER_STORAGE, (a) => a.rateLimitStorage),
  port(SocketPresence, (a) => a.presence),
  { provide: Clock, useClass: SystemClock },
  {
    provide: SessionMetrics,
    inject: [RESOLVED_SESSION_OPTIONS, SessionCache],
    useFactory: (options: ResolvedSessionOptions, cache: SessionCache) => {
      const metrics = new SessionMetrics(options.metrics);
      if (isObservableCache(cache)) metrics.observeCache(cache);
      return metrics;
    },
  },
  {
    provide: SESSION_THROTTLER_OPTIONS,
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
          // The stock guard would name its headers after the throttler (`Retry-After-login`,
          // `X-RateLimit-*-login`); a 429 gets the contract's one `Retry-After` from
          // `SessionThrottlerGuard` instead.
          setHeaders: false,
          skipIf: (context) => !isLoginRoute(context),
        },
      ],
    }),
  },
  {
    provide: SESSION_USER_THROTTLER_OPTIONS,
    inject: [RESOLVED_SESSION_OPTIONS],
    useFactory: ({ userRateLimit }: ResolvedSessionOptions): ThrottlerModuleOptions => ({
      throttlers: userRateLimit ? [{ name: 'user', limit: userRateLimit.limit, ttl: userRateLimit.ttl * 1000, setHeaders: false }] : [],
    }),
  },
];
