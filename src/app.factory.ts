import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { parseAppEnv } from './config/app-env';
import { setupExpress } from './http/express.setup';
import { setupFastify } from './http/fastify.setup';
import { BODY_LIMIT_BYTES, trustProxyOf } from './http/http-limits';

/**
 * Builds the app on the adapter `HTTP_ADAPTER` names, with the HTTP settings both adapters
 * share; `main.ts` and the e2e tests use it alike, so tests run the app as it ships.
 * @param envVars the variables to read; `process.env` when omitted
 */
export async function createApp(
  envVars?: Record<string, string | undefined>,
  logger?: LoggerService | LogLevel[] | false,
): Promise<INestApplication> {
  const env = parseAppEnv(envVars ?? process.env);
  // Each adapter's setup installs its JSON parser itself: JSON is the only body this API takes.
  const options = { logger: logger ?? undefined, bodyParser: false };
  let app: INestApplication;
  if (env.HTTP_ADAPTER === 'fastify') {
    const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: trustProxyOf(env.TRUST_PROXY) as boolean | string });
    const fastifyApp = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(envVars), adapter, options);
    await setupFastify(fastifyApp);
    app = fastifyApp;
  } else {
    const expressApp = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(envVars), new ExpressAdapter(), options);
    setupExpress(expressApp, env);
    app = expressApp;
  }
  // Exit with 0 once everything is closed (Nest would otherwise re-raise the signal).
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

/** Initializes the app (and Fastify's plugins) without listening: for tests. */
export async function initApp(app: INestApplication): Promise<void> {
  await app.init();
  const instance = app.getHttpAdapter().getInstance() as { ready?: () => Promise<unknown> };
  if (typeof instance.ready === 'function') await instance.ready();
}
