import { DynamicModule, Global, Module } from '@nestjs/common';
import { Logger, PARAMS_PROVIDER_TOKEN, type Params, PinoLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppEnv } from '../config/app-env';
import { pinoOptions } from './pino.options';
import { appLogDestination, useLogTarget } from './log-destination';

/** Options of {@link LoggingModule}. */
export interface LoggingModuleOptions {
  /** Where the JSON lines go (tests pass a stream that keeps them). @default standard output */
  destination?: DestinationStream;
}

/**
 * JSON logs through nestjs-pino: its `Logger` (Nest's logs, once the app calls
 * `app.useLogger(app.get(Logger))`) and `PinoLogger`, on one pino logger that reads `LOG_LEVEL`.
 *
 * Without nestjs-pino's `LoggerModule` middleware, on purpose: that middleware gives every request
 * a pino-http child logger inside an `AsyncLocalStorage` context, which on Node 20 (promise hooks)
 * cost about 65 µs of CPU per request on Express — a third of a guarded request — even with
 * nothing logged. The one line per request is written by the `requestLines` observer instead.
 */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingModuleOptions = {}): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        {
          provide: PARAMS_PROVIDER_TOKEN,
          inject: [AppEnv],
          useFactory: (env: AppEnv): Params => {
            useLogTarget(options.destination, env.LOG_LEVEL);
            return { pinoHttp: [pinoOptions(env.LOG_LEVEL), appLogDestination] };
          },
        },
        PinoLogger,
        Logger,
      ],
      exports: [Logger, PinoLogger],
    };
  }
}
