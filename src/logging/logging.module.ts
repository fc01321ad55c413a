import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppEnv } from '../config/app-env';
import { httpLogOptions } from './http-log.options';
import { appLogDestination, useLogTarget } from './log-destination';

/** Options of {@link LoggingModule}. */
export interface LoggingModuleOptions {
  /** Where the JSON lines go (tests pass a stream that keeps them). @default standard output */
  destination?: DestinationStream;
}

/**
 * JSON logs through nestjs-pino: a line per HTTP request, and Nest's own logs (once the app calls
 * `app.useLogger(app.get(Logger))`) with the id of the request they were made in. Reads
 * `LOG_LEVEL` from `AppEnv`.
 */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingModuleOptions = {}): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [AppEnv],
          useFactory: (env: AppEnv) => {
            useLogTarget(options.destination, env.LOG_LEVEL);
            return {
              pinoHttp: [httpLogOptions(env.LOG_LEVEL), appLogDestination],
              // nestjs-pino's default route, `{/*splat}`, never matches on Fastify: @fastify/middie 9.3
              // prefixes a path that lacks a leading slash with one (`/{/*splat}`).
              forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
            };
          },
        }),
      ],
    };
  }
}
