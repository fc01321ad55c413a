import helmet from 'helmet';
import type { ServerResponse } from 'node:http';

/**
 * The headers helmet's defaults set, computed once: with its default options (no CSP nonce, no
 * directive computed per request) helmet writes the same headers on every response, and running
 * its chain of twelve middlewares per request cost an open route tens of µs (most on Fastify,
 * where `@fastify/helmet` wraps it in a hook). The values are helmet's own — a new helmet
 * version's defaults arrive with it.
 */
export function helmetDefaultHeaders(): ReadonlyArray<readonly [string, string]> {
  const headers = new Map<string, string>();
  const res = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: (name: string) => headers.get(name),
  };
  let finished = false;
  helmet()({ method: 'GET', url: '/', headers: {} } as never, res as never, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  // helmet's middleware is synchronous; if a version ever is not, this says so at start.
  if (!finished) throw new Error('helmet did not finish synchronously: the security headers cannot be computed once');
  return [...headers];
}

/** Writes the headers on a response (the raw Node response, on both adapters). */
export function writeSecurityHeaders(res: ServerResponse, headers: ReadonlyArray<readonly [string, string]>): void {
  for (const [name, value] of headers) res.setHeader(name, value);
}
