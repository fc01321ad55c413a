import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { SessionSockets } from './session-sockets.service.js';

/**
 * For gateway message handlers (`@UseGuards(SessionSocketGuard)` on a gateway): the socket's
 * session is still live, re-checked cheaply on every message (see `SessionSockets.recheck`); its
 * session — with roles changed since the handshake — is what `@CurrentSession()` / `@CurrentUser()`
 * give. A refusal is Nest's `WsException('Forbidden')`. Passes contexts other than WebSocket ones,
 * so it may sit beside `SessionAuthGuard` on a class serving both.
 */
@Injectable()
export class SessionSocketGuard implements CanActivate {
  constructor(private readonly sockets: SessionSockets) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'ws') return true;
    return this.sockets.recheck(context.switchToWs().getClient<object>());
  }
}
