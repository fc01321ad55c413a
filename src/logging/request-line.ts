import type { ServerResponse } from 'node:http';
import { requestSession } from '../session';
import type { AuthenticatedRequest, RawRequest } from '../http/request-observer';

/** The fields of the one line logged per request, besides level, time and message. */
export interface RequestLine {
  reqId: string;
  method?: string;
  path: string;
  status: number;
  /** Milliseconds. */
  responseTime: number;
  userId?: string;
  sessionId?: string;
  userAgent?: string;
}

// Long enough for every route of the API; a longer path is a client's noise, cut so it cannot
// inflate the logs.
const MAX_PATH = 256;
const MAX_USER_AGENT = 256;

/** The request's path without its query string, which a client may have put a token into. */
export function pathOf(req: RawRequest): string {
  // Express rewrites `url` inside mounted middleware; `originalUrl` is the request line's.
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > MAX_PATH ? path.slice(0, MAX_PATH) : path;
}

/**
 * The request line, built from fields only, never from headers but a bounded User-Agent.
 * @param raw the Node request
 * @param authenticated the object the guards worked on (on Fastify, Fastify's request; else `raw`)
 */
export function requestLine(
  reqId: string,
  raw: RawRequest,
  authenticated: AuthenticatedRequest,
  status: number,
  responseTime: number,
): RequestLine {
  const line: RequestLine = { reqId, method: raw.method, path: pathOf(raw), status, responseTime };
  const session = requestSession(authenticated);
  if (session) {
    line.userId = session.userId;
    line.sessionId = session.sessionId;
  }
  const userAgent = raw.headers['user-agent'];
  if (userAgent) line.userAgent = userAgent.length > MAX_USER_AGENT ? userAgent.slice(0, MAX_USER_AGENT) : userAgent;
  return line;
}

/** A 5xx (a bug, per the contract) is an error; anything else info. */
export function requestLogLevel(status: number): 'error' | 'info' {
  return status >= 500 ? 'error' : 'info';
}

/** The `req` serializer: method and path only, should anything log a request object. */
export function requestSummary(req: RawRequest): { method?: string; path: string } {
  return { method: req.method, path: pathOf(req) };
}

/** The `res` serializer: the status only (never the headers, which hold Set-Cookie). */
export function responseSummary(res: ServerResponse): { statusCode: number } {
  return { statusCode: res.statusCode };
}
