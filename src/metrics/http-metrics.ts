import type { INestApplication } from '@nestjs/common';
import { Histogram, Registry } from 'prom-client';

/** Label of a request that matched no route: raw paths would give every scanner its own series. */
const UNMATCHED = 'unmatched';
/** A catch-all (`/{*splat}`, `/*`) is how a framework answers 404: not a route of the app's. */
const isCatchAll = (route: string) => route.includes('*');

/**
 * `http_request_duration_seconds{method, route, status_code}`: every answer, the ones refused by
 * a guard or a filter included, labelled by the route template (`/auth/sessions/:id`), never by
 * the raw URL. Installed as the first thing on the HTTP adapter, so it times the whole stack.
 */
export function installHttpMetrics(app: INestApplication, registry: Registry): void {
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, from arrival to the end of the answer',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const observe = (method: string, route: string | undefined, status: number, seconds: number) =>
    histogram.observe({ method, route: route === undefined || isCatchAll(route) ? UNMATCHED : route, status_code: status }, seconds);

  const instance = app.getHttpAdapter().getInstance() as FastifyLike | ExpressLike;
  if ('addHook' in instance) {
    instance.addHook('onResponse', (request, reply, done) => {
      observe(request.method, request.routeOptions?.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    return;
  }
  instance.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const route = req.route?.path === undefined ? undefined : `${req.baseUrl}${req.route.path}`;
      observe(req.method, route, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  });
}

interface FastifyLike {
  addHook(
    name: 'onResponse',
    hook: (
      request: { method: string; routeOptions?: { url?: string } },
      reply: { statusCode: number; elapsedTime: number },
      done: () => void,
    ) => void,
  ): unknown;
}

interface ExpressLike {
  use(
    middleware: (
      req: { method: string; baseUrl: string; route?: { path?: string } },
      res: { statusCode: number; once(event: 'finish', listener: () => void): unknown },
      next: () => void,
    ) => void,
  ): unknown;
}
