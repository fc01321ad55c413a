import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id';
import { type AuthenticatedRequest, type LoggedRequest, requestLine, requestLogLevel } from './request-line';

/**
 * One JSON line per answered request (`request completed`: reqId, method, path without the
 * query, status, responseTime, userAgent, and userId and sessionId when a session was
 * authenticated), written when the answer is finished, and the request id echoed in
 * `X-Request-Id`. Installed first on the HTTP adapter, so a body refused by an early middleware
 * (415, 413) gets its line too. It allocates no logger and no async context per request; when
 * `info` is off, a request costs a level check.
 */
export function installRequestLogging(app: INestApplication): void {
  const write = (reqId: string, raw: LoggedRequest, authenticated: AuthenticatedRequest, status: number, ms: number) => {
    const logger = PinoLogger.root;
    const level = requestLogLevel(status);
    if (!logger?.isLevelEnabled(level)) return;
    logger[level](requestLine(reqId, raw, authenticated, status, Math.round(ms)), 'request completed');
  };

  const instance = app.getHttpAdapter().getInstance() as FastifyLike | ExpressLike;
  if ('addHook' in instance) {
    // Fastify names the request itself (`genReqId`, see FASTIFY_REQUEST_ID_OPTIONS).
    instance.addHook('onRequest', (request, reply, done) => {
      reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
      done();
    });
    instance.addHook('onResponse', (request, reply, done) => {
      write(request.id, request.raw, request, reply.statusCode, reply.elapsedTime);
      done();
    });
    return;
  }
  instance.use((req, res, next) => {
    const start = performance.now();
    const id = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, id);
    res.once('finish', () => write(id, req, req, res.statusCode, performance.now() - start));
    next();
  });
}

/** Fastify options: Fastify names each request, from the client's `X-Request-Id` when sane. */
export const FASTIFY_REQUEST_ID_OPTIONS = { genReqId: requestIdOf };

type FastifyRequestLike = AuthenticatedRequest & { id: string; raw: IncomingMessage };

interface FastifyLike {
  addHook(
    name: 'onRequest' | 'onResponse',
    hook: (request: FastifyRequestLike, reply: { statusCode: number; elapsedTime: number; raw: ServerResponse }, done: () => void) => void,
  ): unknown;
}

interface ExpressLike {
  use(middleware: (req: LoggedRequest & AuthenticatedRequest, res: ServerResponse, next: () => void) => void): unknown;
}
