import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id';
import { NEST_REQUEST } from './request-line';

/**
 * Fastify adapter options: Fastify names each request itself (and the Node request pino-http
 * sees inherits that id), so it is Fastify that must take the client's `X-Request-Id`.
 */
export const FASTIFY_REQUEST_ID_OPTIONS = { genReqId: requestIdOf };

/**
 * On Fastify, pino-http sees the Node request while the guards set `user` and the session on
 * Fastify's request: this keeps the latter reachable from the former for the request line, and
 * echoes the request id (on the Node response, so replies Fastify does not write get it as well).
 */
export function exposeFastifyRequests(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', exposeRequest);
}

function exposeRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  (request.raw as { [NEST_REQUEST]?: unknown })[NEST_REQUEST] = request;
  reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
  done();
}
