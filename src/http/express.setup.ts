import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import type { AppEnv } from '../config/app-env';
import { jsonSafety } from '../session';
import { benchOff } from './bench-off';
import { BODY_LIMIT_BYTES, trustProxyOf } from './http-limits';
import { jsonOnly } from './json-only.middleware';
import { helmetDefaultHeaders, writeSecurityHeaders } from './security-headers';

/** Express: JSON only (415), 100 kB bodies (413), safe JSON, trusted proxies, helmet, cookies. */
export function setupExpress(app: NestExpressApplication, env: AppEnv): void {
  if (!benchOff('json')) app.use(jsonOnly);
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES });
  if (!benchOff('json')) app.use(jsonSafety);
  const trust = trustProxyOf(env.TRUST_PROXY);
  if (trust !== false) app.set('trust proxy', trust);
  app.disable('x-powered-by');
  // JSON API answers are per-user and uncacheable: no ETag hashing of every body.
  app.set('etag', false);
  // helmet's default headers, computed once (security-headers.ts).
  const securityHeaders = helmetDefaultHeaders();
  if (!benchOff('helmet')) app.use((req: Request, res: Response, next: NextFunction) => {
    writeSecurityHeaders(res, securityHeaders);
    next();
  });
  // API clients send a bearer token and no Cookie header: they skip the parser (and the three
  // properties it would add to every request). The module reads the header itself when needed.
  const parseCookies = cookieParser();
  if (!benchOff('cookies')) app.use((req: Request, res: Response, next: NextFunction) => (req.headers.cookie === undefined ? next() : parseCookies(req, res, next)));
}
