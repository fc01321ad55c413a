/**
 * The peer of `npm run bench`: the classic way to guard a NestJS (Express) app with sessions —
 * express-session with connect-redis, configured as their READMEs show (`resave: false`,
 * `saveUninitialized: false`, a signed session-id cookie, the store's default TTL and touch), and
 * a Nest guard that checks `req.session.userId`.
 *
 * Two builds, picked by PEER_STACK:
 * - `minimal` (default): nothing else — no helmet, no rate limit, Nest's default body parsers.
 * - `app`: the same HTTP stack as this repository's app on Express, with only the session layer
 *   swapped: its JSON-only and JSON-safety middleware, the JSON body parser with its limit, helmet,
 *   cookie-parser, and its global rate-limit guard (`SessionThrottlerGuard` with the app's
 *   Redis throttler storage and fallback, the same two throttlers, limits out of the way). The
 *   building blocks are imported from src/, so the two cannot drift apart.
 *
 *   PORT=3100 REDIS_URL=redis://127.0.0.1:6379/14 PEER_PREFIX=peer: SESSION_SECRET=… [PEER_STACK=app] \
 *     node -r ts-node/register/transpile-only bench/peer/express-session-app.ts
 *
 * Routes: `POST /login` (sets `req.session.userId`, answers `{ ok: true }` and the cookie),
 * `GET /ping` (open) and `GET /ping/secure` (guarded: `{ ok: true, userId }`, else 401).
 */
import 'reflect-metadata';
import {
  CanActivate,
  Controller,
  DynamicModule,
  ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { RedisStore } from 'connect-redis';
import cookieParser from 'cookie-parser';
import type { Request } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import { createClient } from 'redis';
import { BODY_LIMIT_BYTES } from '../../src/http/http-limits';
import { jsonOnly } from '../../src/http/json-only.middleware';
import { FallbackThrottlerStorage } from '../../src/session/adapters/redis/fallback-throttler.storage';
import { SessionRedisConnection } from '../../src/session/adapters/redis/redis-connection';
import { RedisThrottlerStorage } from '../../src/session/adapters/redis/redis-throttler.storage';
import { MemoryThrottlerStorage } from '../../src/session/adapters/memory/memory-throttler.storage';
import { LOGIN_THROTTLE_KEY } from '../../src/session/http/decorators/login-throttle.decorator';
import { SessionThrottlerGuard } from '../../src/session/http/guards/session-throttler.guard';
import { SESSION_THROTTLER_OPTIONS, SESSION_THROTTLER_STORAGE } from '../../src/session/session.constants';
import { jsonSafety } from '../../src/session/http/json-safety.middleware';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
  }
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const PREFIX = process.env.PEER_PREFIX ?? 'peer:';
const STACK = process.env.PEER_STACK === 'app' ? 'app' : 'minimal';

@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.session?.userId) throw new UnauthorizedException();
    return true;
  }
}

@Controller()
class PeerController {
  @Post('login')
  @HttpCode(200)
  login(@Req() req: Request) {
    req.session.userId = 'peer-user-0001';
    return { ok: true };
  }

  @Get('ping')
  ping() {
    return { ok: true };
  }

  @Get('ping/secure')
  @UseGuards(SessionGuard)
  secure(@Req() req: Request) {
    return { ok: true, userId: req.session.userId };
  }
}

@Module({})
class PeerModule {
  static forRoot(stack: 'minimal' | 'app'): DynamicModule {
    if (stack === 'minimal') return { module: PeerModule, controllers: [PeerController], providers: [SessionGuard] };
    // The app's rate limiting: the same guard, storage and throttlers (see session.providers.ts and redisSessionAdapters).
    const redis = new SessionRedisConnection(REDIS_URL);
    const isLoginRoute = (context: ExecutionContext) =>
      Reflect.getMetadata(LOGIN_THROTTLE_KEY, context.getHandler()) === true ||
      Reflect.getMetadata(LOGIN_THROTTLE_KEY, context.getClass()) === true;
    return {
      module: PeerModule,
      controllers: [PeerController],
      providers: [
        SessionGuard,
        {
          provide: SESSION_THROTTLER_OPTIONS,
          useValue: {
            throttlers: [
              { name: 'default', limit: 1_000_000_000, ttl: 60_000, skipIf: isLoginRoute },
              { name: 'login', limit: 1_000_000_000, ttl: 60_000, skipIf: (context: ExecutionContext) => !isLoginRoute(context) },
            ],
          },
        },
        {
          provide: SESSION_THROTTLER_STORAGE,
          useValue: new FallbackThrottlerStorage(new RedisThrottlerStorage(redis, PREFIX), new MemoryThrottlerStorage()),
        },
        SessionThrottlerGuard,
        { provide: APP_GUARD, useExisting: SessionThrottlerGuard },
      ],
    };
  }
}

async function main(): Promise<void> {
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', (error: Error) => console.error(`peer: Redis: ${error.message}`));
  await redis.connect();
  const app = await NestFactory.create<NestExpressApplication>(PeerModule.forRoot(STACK), {
    logger: ['error', 'warn'],
    bodyParser: STACK === 'minimal',
  });
  if (STACK === 'app') {
    // As src/http/express.setup.ts does.
    app.use(jsonOnly);
    app.useBodyParser('json', { limit: BODY_LIMIT_BYTES });
    app.use(jsonSafety);
    app.disable('x-powered-by');
    app.use(helmet());
    app.use(cookieParser());
  }
  app.use(
    session({
      store: new RedisStore({ client: redis, prefix: PREFIX }),
      secret: process.env.SESSION_SECRET ?? 'peer-secret-peer-secret-peer-secret-0123',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: false },
    }),
  );
  const port = Number(process.env.PORT ?? 3100);
  await app.listen(port, '127.0.0.1');
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => redis.quit())
      .finally(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
