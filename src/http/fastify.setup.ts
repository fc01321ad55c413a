import fastifyCookie from '@fastify/cookie';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { benchOff } from './bench-off';
import { helmetDefaultHeaders, writeSecurityHeaders } from './security-headers';
import { refuseUnsafeJson, unsafeJsonReason } from '../session';

/**
 * Fastify: the same behaviour as on Express. Fastify itself answers 415 for a media type it has
 * no parser for, 413 past `bodyLimit` and 400 for prototype-poisoned JSON; the hook below adds
 * the depth and ill-formed-text checks once the body is parsed.
 */
export async function setupFastify(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  // JSON only (Fastify's own parser, limited by `bodyLimit`); text/plain would become a string body.
  fastify.removeContentTypeParser(['text/plain']);
  // Callback hooks, not async ones: no promise per request.
  if (!benchOff('json')) fastify.addHook('preValidation', (request, reply, done) => {
    const reason = request.body === undefined ? null : unsafeJsonReason(request.body);
    if (reason) {
      refuseUnsafeJson(reply.raw, reason);
      reply.hijack();
      return;
    }
    done();
  });
  // helmet's default headers, computed once (security-headers.ts), on the raw response as @fastify/helmet wrote them.
  const securityHeaders = helmetDefaultHeaders();
  if (!benchOff('helmet')) fastify.addHook('onRequest', (request, reply, done) => {
    writeSecurityHeaders(reply.raw, securityHeaders);
    done();
  });
  if (!benchOff('cookies')) await app.register(fastifyCookie as never);
}
