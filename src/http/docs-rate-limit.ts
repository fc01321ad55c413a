import { HttpException, type ExecutionContext, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SessionThrottlerGuard } from '../session';
import { isDocsUrl } from './docs-csp';

/**
 * What the docs are to the throttler: a route without decorators, so the default per-address
 * limit (`THROTTLE_LIMIT` per `THROTTLE_TTL`) applies, with a key of its own (`OpenApiDocs-serve`).
 */
class OpenApiDocs {
  serve(): void {}
}

/** The execution context a guard reads, for a request no controller handles. */
function docsContext(req: object, res: object): ExecutionContext {
  const args = [req, res];
  return {
    getClass: () => OpenApiDocs,
    getHandler: () => OpenApiDocs.prototype.serve,
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res, getNext: () => undefined }),
    switchToRpc: () => {
      throw new Error('not an RPC context');
    },
    switchToWs: () => {
      throw new Error('not a WebSocket context');
    },
  } as unknown as ExecutionContext;
}

/**
 * The docs' paths as a router may match them: Express ignores case and a trailing slash, so
 * `/Docs-JSON/` is the document too and must count as well.
 */
const isDocsRequest = (url: string, docsPath: string) =>
  isDocsUrl(url.split('?', 1)[0].toLowerCase().replace(/(?<=.)\/+$/, ''), docsPath);

/**
 * Puts the Swagger UI, its files and the OpenAPI document (`/docs`, `/docs/…`, `/docs-json`)
 * under the default per-address route limit, which they would otherwise escape: they are served
 * by the HTTP adapter, not by a controller, so no guard runs for them. One count for all of them
 * per address, through the module's own `SessionThrottlerGuard` (same storage, same 429 with
 * `Retry-After`, same `throttled` audit entry). Call it before the docs routes are registered.
 */
export function limitDocsRequests(app: INestApplication, docsPath: string): void {
  const guard = app.get(SessionThrottlerGuard);
  const adapter = app.getHttpAdapter();
  /** Counts the request; true when it may go on, false when the 429 has been sent. */
  const admit = async (req: object, res: object): Promise<boolean> => {
    try {
      return await guard.canActivate(docsContext(req, res));
    } catch (error) {
      if (!(error instanceof HttpException)) throw error;
      adapter.reply(res, error.getResponse(), error.getStatus());
      return false;
    }
  };
  if (adapter.getType() === 'fastify') {
    (app as NestFastifyApplication)
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', async (request, reply) => {
        if (isDocsRequest(request.url, docsPath) && !(await admit(request, reply))) return reply;
      });
  } else {
    (app as NestExpressApplication).use((req: { originalUrl: string }, res: object, next: (error?: unknown) => void) => {
      if (!isDocsRequest(req.originalUrl, docsPath)) return next();
      admit(req, res).then((admitted) => admitted && next(), next);
    });
  }
}
