import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * `server.close()` only stops the listener and closes connections idle at that instant. A
 * kept-alive connection busy at that moment stays open after its answer for keepAliveTimeout
 * (5 s, plus Node's 1 s buffer), serving any new request sent on it meanwhile, and holds the
 * shutdown up. Call the returned function when shutdown starts: every answer not yet sent says
 * `Connection: close`, and each connection is closed as soon as it has no answer in progress.
 */
export function trackHttpDrain(server: Server): () => void {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (draining) res.shouldKeepAlive = false;
    res.once('close', () => {
      inFlight.delete(res);
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });
  return () => {
    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    server.closeIdleConnections();
  };
}

/**
 * Starts draining when Nest begins to shut down (SIGTERM, SIGINT or `app.close()`), before it
 * closes the HTTP server and then the database pool and the Redis clients.
 */
@Injectable()
export class HttpDrainOnShutdown implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private drain?: () => void;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server && typeof server.closeIdleConnections === 'function') this.drain = trackHttpDrain(server);
  }

  beforeApplicationShutdown(): void {
    this.drain?.();
  }
}
