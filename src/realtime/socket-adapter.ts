import type { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import type { AppEnv } from '../config/app-env';
import { trustProxyOf } from '../http/http-limits';
import { authenticateSockets, SessionSockets } from '../session';
import { clientAddressRule } from './client-address';

/**
 * The app's WebSocket adapter: socket.io (or plain WebSockets with `REALTIME_TRANSPORT=ws`) on the
 * app's HTTP server, every connection authenticated by a session before any gateway sees it.
 */
export function useSessionSockets(app: INestApplication, env: AppEnv): void {
  const adapter = env.REALTIME_TRANSPORT === 'ws' ? new WsAdapter(app) : new IoAdapter(app);
  const allowedOrigins = env.SOCKET_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean);
  const clientAddress = clientAddressRule(trustProxyOf(env.TRUST_PROXY));
  app.useWebSocketAdapter(authenticateSockets(adapter, app.get(SessionSockets), { allowedOrigins, clientAddress }));
}
