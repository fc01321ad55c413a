import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Header a client may send to name its request, and in which the app echoes the id it used. */
export const REQUEST_ID_HEADER = 'x-request-id';

// A caller's id is kept only when it is short and plain: it ends up in every log line of the
// request, so it must not be a way to write arbitrary text (or a secret) into the logs.
const SANE_REQUEST_ID = /^[\w.:-]{1,64}$/;

/** The request's id: the client's `X-Request-Id` when it is a sane short token, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
