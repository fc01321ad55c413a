import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import WebSocket from 'ws';

/** A socket.io client connected to `baseUrl` (websocket transport), or the `connect_error` it got. */
export function connectIo(baseUrl: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<Socket> {
  const socket = io(baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5000, ...options });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** The message of the `connect_error` a handshake gets, or 'connected' (and the socket closed). */
export async function ioRefusal(baseUrl: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<string> {
  try {
    (await connectIo(baseUrl, options)).close();
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  }
}

/** Emits `whoami` and resolves with its acknowledgement. */
export function whoami(socket: Socket): Promise<{ userId: string; sessionId: string }> {
  return socket.timeout(5000).emitWithAck('whoami');
}

/** What a socket.io client saw when its session ended: the `session.ended` payload, then the disconnect reason, and when. */
export function ioEnding(socket: Socket): Promise<{ ended?: { reason: string }; disconnect: string; at: number }> {
  let ended: { reason: string } | undefined;
  socket.on('session.ended', (payload: { reason: string }) => (ended = payload));
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve({ ended, disconnect: reason, at: performance.now() })));
}

/** A plain WebSocket client: `opened` resolves on open, `closed` with the close code and every message received before. */
export function connectWs(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const messages: Array<{ event: string; data: unknown }> = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as { event: string; data: unknown }));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string; messages: typeof messages; at: number }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason), messages, at: performance.now() })),
  );
  /** Sends `{event, data}` and resolves with the next message of that event. */
  const request = (event: string, data?: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const onMessage = (raw: WebSocket.RawData) => {
        const message = JSON.parse(String(raw)) as { event: string; data: unknown };
        if (message.event !== event) return;
        ws.off('message', onMessage);
        resolve(message.data);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ event, data }));
      setTimeout(() => reject(new Error(`no ${event} answer`)), 5000).unref();
    });
  return { ws, opened, closed, messages, request };
}
