import { Logger } from '@nestjs/common';
import { InvalidTokenError } from '../errors/session.errors.js';
import { originRule, type SocketHandshake } from './socket-handshake.js';
import { UNAUTHORIZED_CLOSE_CODE } from './socket-handle.js';
import type { SessionSockets, SocketCredentials } from './session-sockets.service.js';

/** The part of a Nest WebSocket adapter (`IoAdapter`, `WsAdapter`, or a subclass of either) this wraps. */
export interface WebSocketAdapterLike {
  // Nest's own signature: the server and the connection callback are the platform's.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  bindClientConnect(server: any, callback: (...args: any[]) => void): any;
}

/** Options of `authenticateSockets`. */
export interface SocketAuthOptions {
  /**
   * Origins (`https://app.example.com`, exact scheme, host and port) whose pages may open a socket
   * authenticated by the access cookie. A bearer token (`auth.token`, `Authorization`) needs none.
   * @default the socket's own host only (the `Origin`'s host equals the `Host` header), over `https:`
   *   (or `http:` on a loopback host: the access cookie is `Secure`)
   */
  allowedOrigins?: string[];

  /**
   * The client's address for `ip` binding, from the handshake's HTTP request: give the same rule
   * the app's HTTP adapter applies (`trust proxy`), or behind a proxy every socket would be judged
   * by the proxy's address — a hijack under `ip` binding.
   * @default the TCP peer's address (right without a proxy)
   */
  clientAddress?: (request: UpgradeRequest) => string | undefined;
}

/** socket.io's server or namespace, and its sockets, as far as this uses them. */
interface IoServer {
  use(middleware: (socket: IoHandshakeSocket, next: (error?: Error) => void) => void): unknown;
}
interface IoHandshakeSocket {
  handshake: SocketHandshake & { address?: string };
  /** The handshake's HTTP request (socket.io keeps it). */
  request?: UpgradeRequest;
  disconnect(close?: boolean): unknown;
}
/** The HTTP request a socket was opened with, as far as this reads it. */
export interface UpgradeRequest {
  headers: SocketHandshake['headers'];
  socket?: { remoteAddress?: string };
}
interface PlainSocket {
  readyState: number;
  close(code?: number, reason?: string): void;
  pause?(): void;
  resume?(): void;
}

const isIoServer = (server: unknown): server is IoServer => typeof (server as IoServer)?.use === 'function';

/** What a refused socket.io handshake answers: the client's `connect_error` has this message. */
const unauthorized = () => new Error('Unauthorized');

/**
 * Makes a Nest WebSocket adapter refuse every connection without a live session, before any
 * gateway handler runs, and hand the accepted ones to `SessionSockets`:
 *
 * ```ts
 * app.useWebSocketAdapter(authenticateSockets(new IoAdapter(app), app.get(SessionSockets)));
 * ```
 *
 * socket.io (`@nestjs/platform-socket.io`): a middleware on each gateway's server or namespace;
 * a refusal is the client's `connect_error` with message `Unauthorized`. Plain WebSockets
 * (`@nestjs/platform-ws`): the socket is paused while its token is checked, and a refusal closes
 * it with code 4401. Works on any adapter built on either (a Redis `IoAdapter` too): it wraps the
 * instance's `bindClientConnect`, and needs neither platform package itself.
 * @returns the same adapter
 */
export function authenticateSockets<A extends WebSocketAdapterLike>(adapter: A, sockets: SessionSockets, options: SocketAuthOptions = {}): A {
  const logger = new Logger('SessionSockets');
  const allowedOrigin = originRule(options.allowedOrigins);
  const clientAddress = options.clientAddress ?? ((request: UpgradeRequest) => request.socket?.remoteAddress);
  const admitted = new WeakMap<object, SocketCredentials>();
  const guardedServers = new WeakSet<object>();
  const bind = adapter.bindClientConnect.bind(adapter);

  /** A failure that is not a refusal (the store is down): logged, and the client is refused all the same. */
  const failure = (error: unknown): Error => {
    if (error instanceof InvalidTokenError) return unauthorized();
    logger.warn(`Could not authenticate a socket: ${(error as Error).message}`);
    return new Error('Unavailable');
  };

  const guardIoServer = (server: IoServer) => {
    if (guardedServers.has(server)) return;
    guardedServers.add(server);
    server.use((socket, next) => {
      try {
        const request = socket.request ?? { headers: socket.handshake.headers, socket: { remoteAddress: socket.handshake.address } };
        const credentials = sockets.authenticate(socket.handshake, allowedOrigin, clientAddress(request));
        if (!(credentials instanceof Promise)) {
          admitted.set(socket, credentials);
          return next();
        }
        credentials.then(
          (c) => {
            admitted.set(socket, c);
            next();
          },
          (error: unknown) => next(failure(error)),
        );
      } catch (error) {
        next(failure(error));
      }
    });
  };

  adapter.bindClientConnect = (server: unknown, callback: (...args: unknown[]) => void) => {
    if (isIoServer(server)) {
      guardIoServer(server);
      return bind(server, (socket: IoHandshakeSocket, ...rest: unknown[]) => {
        const credentials = admitted.get(socket);
        if (!credentials) {
          socket.disconnect(true);
          return;
        }
        if (sockets.adopt(socket, credentials)) callback(socket, ...rest);
      });
    }
    return bind(server, (ws: PlainSocket, request: UpgradeRequest, ...rest: unknown[]) => {
      const admit = (credentials: SocketCredentials) => {
        if (ws.readyState === 1 && sockets.adopt(ws, credentials)) callback(ws, request, ...rest);
      };
      const refuse = (error: unknown) => ws.close(UNAUTHORIZED_CLOSE_CODE, failure(error).message);
      try {
        const credentials = sockets.authenticate({ headers: request.headers }, allowedOrigin, clientAddress(request));
        if (!(credentials instanceof Promise)) return admit(credentials);
        // No message is read until the gateway's handlers listen: none is lost, none runs unauthenticated.
        ws.pause?.();
        credentials.then(admit, refuse).finally(() => ws.resume?.());
      } catch (error) {
        refuse(error);
      }
    });
  };
  return adapter;
}
