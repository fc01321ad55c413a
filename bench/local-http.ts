import http from 'node:http';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (for a server the bench starts). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** An answer of a local server: its status, headers, and body (parsed when JSON, else the text). */
export interface JsonAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One request to a server on 127.0.0.1 with an optional JSON body; times out after 30 s. */
export function requestJson(
  port: number,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string | number>; agent?: http.Agent | false } = {},
): Promise<JsonAnswer> {
  const data = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = { ...options.headers };
  if (data !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(data);
  }
  return new Promise((done, fail) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        done({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', fail);
    req.end(data);
  });
}
