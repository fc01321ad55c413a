import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionModuleOptions } from './session.options.js';

/** Extras of `forRoot` / `forRootAsync` that shape the module rather than the sessions. */
export interface SessionModuleExtras {
  /**
   * Make `SessionService` and the guards injectable everywhere without importing the module.
   * @default false
   */
  isGlobal?: boolean;
  /**
   * Register `SessionAuthGuard` and `RolesGuard` as global guards: every route needs a session
   * unless it is `@Public()`.
   * @default true
   */
  globalGuard?: boolean;
  /**
   * Register `SessionThrottlerGuard` globally: every route is rate limited per client IP
   * (`rateLimit`), login and refresh by `loginRateLimit`.
   * @default true
   */
  throttle?: boolean;
}

export const {
  ConfigurableModuleClass: SessionConfigurableModule,
  MODULE_OPTIONS_TOKEN: SESSION_MODULE_OPTIONS,
  OPTIONS_TYPE: SESSION_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SESSION_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<SessionModuleExtras>(
    { isGlobal: false, globalGuard: true, throttle: true },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }),
  )
  .build();
