/**
 * The baseline of `npm run bench`: a bare NestJS app with one open route, `GET /ping` answering
 * `{ ok: true }` as the app's does — no helmet, no rate limit, no metrics, no logging, no JSON
 * checks, no body parser, no session. What any NestJS request costs on the adapter; the app's open
 * route is compared with it ("What every request pays").
 *
 *   PORT=3200 BARE_ADAPTER=fastify node -r ts-node/register/transpile-only bench/peer/bare-nest-app.ts
 *
 * Environment: PORT, BARE_ADAPTER (`express`, the default, or `fastify`).
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

@Controller('ping')
class PingController {
  @Get()
  ping() {
    return { ok: true };
  }
}

@Module({ controllers: [PingController] })
class BareModule {}

async function main(): Promise<void> {
  const adapter = process.env.BARE_ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(BareModule, adapter, { logger: ['error'], bodyParser: false });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3200), '127.0.0.1');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
