/**
 * The second peer of `npm run bench`: better-auth in a minimal NestJS app on the same HTTP stack
 * as bench/peer/express-session-app.ts (@nestjs/platform-express, no helmet, no rate limit),
 * with its sessions in the same PostgreSQL (its own tables, made by its own migrations at start)
 * and Redis as its secondary storage (@better-auth/redis-storage), so a session check reads Redis
 * first, as this module's does.
 *
 * Routes: GET /ping (open); GET /ping/secure, guarded by better-auth's own session check
 * (`auth.api.getSession`, whose Set-Cookie, when it extends the session, is passed on);
 * better-auth's handler under /api/auth (sign-in/email is the login, get-session the session
 * check that extends a session older than `updateAge`).
 *
 * Environment: PORT, DATABASE_URL, REDIS_URL, PEER_PREFIX (Redis key prefix), SESSION_SECRET,
 * BA_COOKIE_CACHE=on (better-auth's signed cookie cache of the session, 5 minutes: a check with a
 * fresh one reads neither Redis nor PostgreSQL), BA_UPDATE_AGE (seconds, default 86400: how old a
 * session gets before a check extends it; 0 extends it at every check).
 */
import 'reflect-metadata';
import { Controller, Get, Module, Req, Res, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { BetterAuthOptions } from 'better-auth';

// better-auth ships ES modules only; Node ≥ 20.19 requires them from this CommonJS file.
/* eslint-disable @typescript-eslint/no-require-imports */
const { betterAuth } = require('better-auth') as typeof import('better-auth');
const { toNodeHandler, fromNodeHeaders } = require('better-auth/node') as typeof import('better-auth/node');
const { getMigrations } = require('better-auth/db/migration') as typeof import('better-auth/db/migration');
const { redisStorage } = require('@better-auth/redis-storage') as typeof import('@better-auth/redis-storage');
/* eslint-enable @typescript-eslint/no-require-imports */

export const PEER_EMAIL = 'peer-user@bench.example.com';
export const PEER_PASSWORD = 'bench password 0123';

function authOptions(env: NodeJS.ProcessEnv, pool: Pool, redis: Redis): BetterAuthOptions {
  return {
    baseURL: `http://127.0.0.1:${env.PORT ?? 3000}`,
    secret: env.SESSION_SECRET ?? 'better-auth-bench-secret-0123456789abcdef',
    database: pool,
    secondaryStorage: redisStorage({ client: redis, keyPrefix: env.PEER_PREFIX ?? 'better-auth:' }),
    emailAndPassword: { enabled: true },
    session: {
      updateAge: Number(env.BA_UPDATE_AGE ?? 86_400),
      cookieCache: { enabled: env.BA_COOKIE_CACHE === 'on', maxAge: 300 },
    },
    // Loopback load: better-auth's own rate limit would answer 429.
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
  };
}

let auth: ReturnType<typeof betterAuth<BetterAuthOptions>>;

@Controller('ping')
class PingController {
  @Get()
  open() {
    return { ok: true };
  }

  @Get('secure')
  async secure(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    // The headers too: a check that extends the session (older than `updateAge`) re-sets its
    // cookie, which goes back to the client as better-auth's own get-session would send it.
    const { headers, response: session } = await auth.api.getSession({ headers: fromNodeHeaders(req.headers), returnHeaders: true });
    const setCookies = headers.getSetCookie();
    if (setCookies.length) res.setHeader('set-cookie', setCookies);
    if (!session) throw new UnauthorizedException();
    return { ok: true, userId: session.user.id };
  }
}

@Module({ controllers: [PingController] })
class BetterAuthPeerModule {}

async function main(): Promise<void> {
  const env = process.env;
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 10 });
  const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const options = authOptions(env, pool, redis);
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  auth = betterAuth(options);
  // The fixed user the bench logs in (once per database).
  await auth.api.signUpEmail({ body: { email: PEER_EMAIL, password: PEER_PASSWORD, name: 'Peer' } }).catch(() => undefined);
  // better-auth reads the request body itself: Nest's body parser stays off.
  const app = await NestFactory.create(BetterAuthPeerModule, { logger: ['error'], bodyParser: false });
  app.getHttpAdapter().getInstance().all('/api/auth/*splat', toNodeHandler(auth));
  app.enableShutdownHooks();
  await app.listen(Number(env.PORT ?? 3000), '127.0.0.1');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
