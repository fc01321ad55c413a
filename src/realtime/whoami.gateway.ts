import { UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { type AuthenticatedSession, CurrentSession, SessionSocketGuard } from '../session';
/**
 * Largest message a socket may send, in bytes: socket.io's own default (`maxHttpBufferSize`), and
 * the same for plain WebSockets, whose `ws` default (100 MiB) let any socket make the server buffer
 * and parse 100 MiB per message. Beyond it socket.io disconnects, `ws` closes with code 1009.
 */
export const SOCKET_MESSAGE_LIMIT_BYTES = 1_000_000;

/** What `whoami` acknowledges: who the socket is, through which session. */
export interface WhoAmI {
  userId: string;
  sessionId: string;
}

/**
 * The app's real-time gateway on socket.io, on the app's own port at `/socket.io`: connections
 * are authenticated before they reach it (see `app.factory.ts`), and every message is re-checked.
 */
@WebSocketGateway({ maxHttpBufferSize: SOCKET_MESSAGE_LIMIT_BYTES })
@UseGuards(SessionSocketGuard)
export class WhoAmIGateway {
  /** Acknowledged with `{ userId, sessionId }`. */
  @SubscribeMessage('whoami')
  whoami(@CurrentSession() session: AuthenticatedSession): WhoAmI {
    return { userId: session.userId, sessionId: session.sessionId };
  }
}

/** The same gateway on plain WebSockets (`REALTIME_TRANSPORT=ws`), at `/ws`: `{"event":"whoami"}` answers `{"event":"whoami","data":{userId,sessionId}}`. */
@WebSocketGateway({ path: '/ws', maxPayload: SOCKET_MESSAGE_LIMIT_BYTES })
@UseGuards(SessionSocketGuard)
export class WhoAmIWsGateway {
  @SubscribeMessage('whoami')
  whoami(@CurrentSession() session: AuthenticatedSession) {
    return { event: 'whoami', data: { userId: session.userId, sessionId: session.sessionId } satisfies WhoAmI };
  }
}
