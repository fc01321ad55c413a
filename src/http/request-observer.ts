import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER, requestIdOf } from '../logging/request-id';

/** The request object the guards worked on (Express's, or Fastify's): read with the module's `requestSession`. */
export type AuthenticatedRequest = object;

/** The Node request, with what Express adds. */
export type RawRequest = IncomingMessage & { originalUrl?: string };

/** An answered request, as every observer sees it. */
export interface AnsweredRequest {
  /** The request id (the client's `X-Request-Id` when sane, else a new one), echoed in the answer. */
  id: string;
  method: string;
  /** The route template that answered (`/auth/sessions/:id`); undefined when none matched. */
  route: string | undefined;
  status: number;
  /** From arrival to the end of the answer. */
  ms: number;
  raw: RawRequest;
  /** The object the guards worked on: Fastify's request on Fastify, else `raw`. */
  authenticated: AuthenticatedRequest;
}

export type RequestObserver = (answered: AnsweredRequest) => void;

/** Fastify options: Fastify names each request itself, from the client's `X-Request-Id` when sane. */
export const FASTIFY_REQUEST_ID_OPTIONS = { genReqId: requestIdOf };

/**
 * Names every request (`X-Request-Id` in and out) and hands each answered one to `observers`
 * (metrics, request log): one hook, one timer and one `finish` listener per request for all of
 * them. Install it first on the HTTP adapter, so it times the whole stack and sees the answers
 * of early middleware (415, 413) too.
 */
export function observeRequests(app: INestApplication, observers: readonly RequestObserver[]): void {
  const notify = (answered: AnsweredRequest) => {
    for (const observer of observers) observer(answered);
  };
  const instance = app.getHttpAdapter().getInstance() as FastifyLike | ExpressLike;
  if ('addHook' in instance) {
    instance.addHook('onRequest', (request, reply, done) => {
      reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
      done();
    });
    instance.addHook('onResponse', (request, reply, done) => {
      notify({
        id: request.id,
        method: request.method,
        route: request.routeOptions?.url,
        status: reply.statusCode,
        ms: reply.elapsedTime,
        raw: request.raw,
        authenticated: request,
      });
      done();
    });
    return;
  }
  instance.use((req, res, next) => {
    const start = performance.now();
    const id = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, id);
    res.once('finish', () =>
      notify({
        id,
        method: req.method ?? '',
        route: req.route?.path === undefined ? undefined : `${req.baseUrl ?? ''}${req.route.path}`,
        status: res.statusCode,
        ms: performance.now() - start,
        raw: req,
        authenticated: req,
      }),
    );
    next();
  });
}

type FastifyRequestLike = AuthenticatedRequest & { id: string; method: string; raw: IncomingMessage; routeOptions?: { url?: string } };

interface FastifyLike {
  addHook(
    name: 'onRequest' | 'onResponse',
    hook: (request: FastifyRequestLike, reply: { statusCode: number; elapsedTime: number; raw: ServerResponse }, done: () => void) => void,
  ): unknown;
}

type ExpressRequestLike = RawRequest & AuthenticatedRequest & { baseUrl?: string; route?: { path?: string } };

interface ExpressLike {
  use(middleware: (req: ExpressRequestLike, res: ServerResponse, next: () => void) => void): unknown;
}
