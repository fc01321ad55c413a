import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import type { ServerResponse } from 'node:http';

/**
 * helmet's default Content-Security-Policy without `upgrade-insecure-requests`. The Swagger UI
 * needs nothing else relaxed: its scripts, styles and images are files of its own (`'self'`), its
 * inline `<style>` blocks are already allowed by `style-src 'unsafe-inline'`, and it has no inline
 * script. But on a plain-HTTP origin other than localhost (a dev box on the LAN, a container's
 * IP), the browser would upgrade every asset and "Try it out" call to https and the page would
 * stay blank. Leaving that directive out changes nothing over HTTPS: every request the page
 * makes is same-origin.
 */
export const DOCS_CONTENT_SECURITY_POLICY = Object.entries(helmet.contentSecurityPolicy.getDefaultDirectives())
  .filter(([name]) => name !== 'upgrade-insecure-requests')
  .map(([name, values]) => [name, ...values].join(' '))
  .join(';');

/** `/docs`, everything under it, and `/docs-json`. */
export function isDocsUrl(url: string, docsPath: string): boolean {
  // Every request passes here: most leave at this first, allocation-free test.
  if (!url.startsWith(`/${docsPath}`)) return false;
  const path = url.split('?', 1)[0];
  return path === `/${docsPath}` || path.startsWith(`/${docsPath}/`) || path === `/${docsPath}-json`;
}

/**
 * Serves the docs routes with `DOCS_CONTENT_SECURITY_POLICY` instead of the app's policy, which
 * stays as it is everywhere else. Call it after helmet is installed.
 */
export function relaxCspForDocs(app: INestApplication, docsPath: string): void {
  const override = (url: string, res: ServerResponse) => {
    if (isDocsUrl(url, docsPath)) res.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
  };
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    // onSend runs after the onRequest hook has written the app's policy to the raw response; a
    // callback hook, not an async one: no promise per request.
    (app as NestFastifyApplication).getHttpAdapter().getInstance().addHook('onSend', (request, reply, payload, done) => {
      override(request.url, reply.raw);
      done(null, payload);
    });
  } else {
    (app as NestExpressApplication).use((req: { originalUrl: string }, res: ServerResponse, next: () => void) => {
      override(req.originalUrl, res);
      next();
    });
  }
}
