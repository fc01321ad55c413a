import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { Registry } from 'prom-client';
import { httpDurations } from './metrics/http-metrics';
import { FASTIFY_REQUEST_ID_OPTIONS, observeRequests } from './http/request-observer';
import { AppModule } from './app.module';
import { parseAppEnv } from './config/app-env';
import { benchOff } from './http/bench-off';
import { setupExpress } from './http/express.setup';
import { setupFastify } from './http/fastify.setup';
import { BODY_LIMIT_BYTES, trustProxyOf } from './http/http-limits';
import { setupOpenApi } from './http/openapi';
import { requestLines } from './logging/request-logging';
import type { LoggingModuleOptions } from './logging/logging.module';
import { useSessionSockets } from './realtime/socket-adapter';

/**
 * Builds the app on the adapter `HTTP_ADAPTER` names, with the HTTP settings both adapters
 * share; `main.ts` and the e2e tests use it alike, so tests run the app as it ships.
 * @param envVars the variables to read; `process.env` when omitted
 * @param logging where the JSON logs go; standard output by default
 */
export async function createApp(
  envVars?: Record<string, string | undefined>,
  logging?: LoggingModuleOptions,
): Promise<INestApplication> {
  const env = parseAppEnv(envVars ?? process.env);
  // Each adapter's setup installs its JSON parser itself: JSON is the only body this API takes.
  // Nest's own start-up lines wait for the pino logger installed below.
  const options = { bufferLogs: true, bodyParser: false };
  let app: INestApplication;
  if (env.HTTP_ADAPTER === 'fastify') {
    const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: trustProxyOf(env.TRUST_PROXY) as boolean | string, ...FASTIFY_REQUEST_ID_OPTIONS });
    const fastifyApp = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(envVars, logging), adapter, options);
    if (!benchOff('observer')) observeRequests(fastifyApp, [...(benchOff('metrics') ? [] : [httpDurations(fastifyApp.get(Registry))]), requestLines()]);
    await setupFastify(fastifyApp);
    app = fastifyApp;
  } else {
    const expressApp = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(envVars, logging), new ExpressAdapter(), options);
    // First, so the durations cover every middleware too.
    if (!benchOff('observer')) observeRequests(expressApp, [...(benchOff('metrics') ? [] : [httpDurations(expressApp.get(Registry))]), requestLines()]);
    setupExpress(expressApp, env);
    app = expressApp;
  }
  app.useLogger(app.get(Logger));
  useSessionSockets(app, env);
  // After the adapter setup, so helmet and the other hooks cover /docs as well.
  setupOpenApi(app);
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
