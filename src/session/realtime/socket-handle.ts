import { randomUUID } from 'node:crypto';

/** Event a client receives, with `{ reason }`, just before its socket is closed because its session ended. */
export const SESSION_ENDED_EVENT = 'session.ended';
/** Close code of a plain WebSocket refused at the handshake, or closed because its session ended. */
export const UNAUTHORIZED_CLOSE_CODE = 4401;

/** A socket.io `Socket`, as far as the module uses it. */
interface IoSocket {
  id: string;
  handshake: { headers: Record<string, string | string[] | undefined>; auth?: unknown; address?: string };
  emit(event: string, ...args: unknown[]): unknown;
  disconnect(close?: boolean): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

/** A `ws` WebSocket, as far as the module uses it. */
interface PlainSocket {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  once(event: 'close', listener: () => void): unknown;
}

/** One client socket, whatever the platform: how to tell it its session ended and close it. */
export interface SessionSocketHandle {
  readonly id: string;
  /** Sends `session.ended` with the reason, then closes (socket.io: disconnect; ws: close code 4401). */
  end(reason: string): void;
  onClose(listener: () => void): void;
}

export const isIoSocket = (client: unknown): client is IoSocket =>
  typeof (client as IoSocket)?.disconnect === 'function' && typeof (client as IoSocket)?.handshake === 'object';

/** The handle of a socket.io `Socket` or a `ws` WebSocket. */
export function socketHandle(client: unknown): SessionSocketHandle {
  if (isIoSocket(client)) {
    return {
      id: client.id,
      end(reason) {
        client.emit(SESSION_ENDED_EVENT, { reason });
        // true: the whole connection closes (after the event and the DISCONNECT packet are flushed).
        client.disconnect(true);
      },
      onClose: (listener) => void client.once('disconnect', listener),
    };
  }
  const ws = client as PlainSocket;
  return {
    id: randomUUID(),
    end(reason) {
      if (ws.readyState === 1) ws.send(JSON.stringify({ event: SESSION_ENDED_EVENT, data: { reason } }));
      ws.close(UNAUTHORIZED_CLOSE_CODE, 'Session ended');
    },
    onClose: (listener) => void ws.once('close', listener),
  };
}
