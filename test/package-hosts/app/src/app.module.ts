import { DynamicModule, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { sessionModules } from './backend.js';
import { HostController } from './host.controller.js';
import { MagicLinkController } from './magic-link.controller.js';
import { ThingsModule } from './things.module.js';
import { UsersModule } from './users.module.js';

/** The host app: its own users and routes, and SessionModule with or without the global guard (GLOBAL_GUARD=1). */
@Module({})
export class AppModule {
  static forRoot(): DynamicModule {
    return {
      module: AppModule,
      imports: [
        UsersModule,
        // The host's own rate limiter, which the session module must leave alone.
        ThrottlerModule.forRoot({ throttlers: [{ limit: 3, ttl: 60_000 }] }),
        ...sessionModules(process.env.GLOBAL_GUARD === '1'),
        ThingsModule,
      ],
      controllers: [HostController, MagicLinkController],
    };
  }
}
