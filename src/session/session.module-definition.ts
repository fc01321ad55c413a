import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionModuleOptions } from './session.options.js';

/**
 * Extras of `forRoot` / `forRootAsync` that shape the module rather than the sessions: every
 * effect on the app beyond the module's own routes is one of these, off unless asked for, and
 * logged at start.
 */
export interface SessionModuleExtras {
  /**
   * Make `SessionService`, the guards and the ports injectable in every module of the app, so
   * `@UseGuards(SessionAuthGuard)` works anywhere. `SessionAdminModule` needs it.
   * @default true
   */
  isGlobal?: boolean;
  /**
   * Register `SessionAuthGuard` and `RolesGuard` as global guards: every route of the app needs a
   * session unless it is `@Public()`. Off: put `@UseGuards(SessionAuthGuard, RolesGuard)` where you
   * want them.
   * @default false
   */
  globalGuard?: boolean;
  /**
   * Register `SessionThrottlerGuard` globally: every route of the app is rate limited per client IP
   * (`rateLimit`). The module's own routes are limited either way (login and refresh by
   * `loginRateLimit`).
   * @default false
   */
  throttle?: boolean;
  /**
   * Path of the login, refresh, logout, `me` and own-sessions routes; `false` mounts none (issue
   * sessions from your own flows with `SessionIssuer`).
   * @default 'auth'
   */
  routes?: string | false;
  /**
   * Register `SessionExceptionFilter` globally, so the module's errors thrown from your own code
   * (e.g. `SessionNotFoundError` from `SessionService.revokeOwn`) answer as on the module's routes.
   * The module's routes and guards answer with the right status either way.
   * @default false
   */
  exceptionFilter?: boolean;
}

/** The extras with their defaults, as the module applies them. */
export type ResolvedSessionExtras = Required<SessionModuleExtras>;

export const SESSION_EXTRAS_DEFAULTS: ResolvedSessionExtras = {
  isGlobal: true,
  globalGuard: false,
  throttle: false,
  routes: 'auth',
  exceptionFilter: false,
};

export const {
  ConfigurableModuleClass: SessionConfigurableModule,
  MODULE_OPTIONS_TOKEN: SESSION_MODULE_OPTIONS,
  OPTIONS_TYPE: SESSION_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SESSION_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<SessionModuleExtras>(SESSION_EXTRAS_DEFAULTS, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
