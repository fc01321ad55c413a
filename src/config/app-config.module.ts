import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppEnv, parseAppEnv } from './app-env';

/**
 * `@nestjs/config` with the environment parsed into a typed `AppEnv` provider. Tests pass their
 * own variables instead of mutating `process.env`.
 */
@Module({})
export class AppConfigModule {
  static forRoot(env?: Record<string, string | undefined>): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: env !== undefined, cache: true })],
      providers: [{ provide: AppEnv, useFactory: () => parseAppEnv(env ?? process.env) }],
      exports: [AppEnv],
    };
  }
}
