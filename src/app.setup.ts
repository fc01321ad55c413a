import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import type { AppEnv } from './config/app-env';
import { jsonOnly } from './http/json-only.middleware';
import { jsonSafety } from './session';

/** Largest JSON body accepted (413 beyond). */
export const BODY_LIMIT = '100kb';

/** HTTP settings shared by `main.ts` and the e2e tests, so tests run the app as it ships. */
export function setupApp(app: INestApplication, env: AppEnv): void {
  const express = app as NestExpressApplication;
  express.use(jsonOnly);
  express.useBodyParser('json', { limit: BODY_LIMIT });
  express.use(jsonSafety);
  if (env.TRUST_PROXY) express.set('trust proxy', parseTrustProxy(env.TRUST_PROXY));
  express.disable('x-powered-by');
  app.use(helmet());
  app.use(cookieParser());
  // Exit with 0 once everything is closed (Nest would otherwise re-raise the signal).
  app.enableShutdownHooks([], { useProcessExit: true });
}

/** `true`, a hop count, or addresses/subnets, as Express's `trust proxy` takes them. */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}
