import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_SESSION_KEY } from '../session/session.constants';

/**
 * Where, on the Node request, the request object Nest's guards work on is kept when it is another
 * object (Fastify's request wraps the Node one); see `exposeFastifyRequests`.
 */
export const NEST_REQUEST = Symbol('NEST_REQUEST');

/** What the session guard leaves on the request it authenticated. */
interface AuthenticatedRequest {
  user?: { id?: string };
  [REQUEST_SESSION_KEY]?: { sessionId?: string };
}

/** The Node request as pino-http hands it over, on either adapter. */
export type LoggedRequest = IncomingMessage & AuthenticatedRequest & {
  originalUrl?: string;
  [NEST_REQUEST]?: AuthenticatedRequest;
};

/** The fields of the one line logged per request, besides `reqId`, level, time and message. */
export interface RequestLine {
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
export function pathOf(req: LoggedRequest): string {
  // Express rewrites `url` inside mounted middleware; `originalUrl` is the request line's.
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > MAX_PATH ? path.slice(0, MAX_PATH) : path;
}

/** pino-http's `customSuccessObject`: the request line, built from fields only, no headers. */
export function requestLine(req: LoggedRequest, res: ServerResponse, done: { responseTime: number }): RequestLine {
  const line: RequestLine = { method: req.method, path: pathOf(req), status: res.statusCode, responseTime: done.responseTime };
  const authenticated = req[NEST_REQUEST] ?? req;
  const userId = authenticated.user?.id;
  if (userId !== undefined) line.userId = userId;
  const sessionId = authenticated[REQUEST_SESSION_KEY]?.sessionId;
  if (sessionId !== undefined) line.sessionId = sessionId;
  const userAgent = req.headers['user-agent'];
  if (userAgent) line.userAgent = userAgent.length > MAX_USER_AGENT ? userAgent.slice(0, MAX_USER_AGENT) : userAgent;
  return line;
}

/** pino-http's `customErrorObject`: the same line; Nest logs the error itself, with its stack. */
export function failedRequestLine(req: LoggedRequest, res: ServerResponse, _error: Error, done: { responseTime: number }): RequestLine {
  return requestLine(req, res, done);
}

/** pino-http's `customLogLevel`: a 5xx (a bug, per the contract) is an error, anything else info. */
export function requestLogLevel(_req: LoggedRequest, res: ServerResponse, error?: Error): 'error' | 'info' {
  return error || res.statusCode >= 500 ? 'error' : 'info';
}

/** The `req` serializer: method and path only, should anything log a request object. */
export function requestSummary(req: LoggedRequest): { method?: string; path: string } {
  return { method: req.method, path: pathOf(req) };
}

/** The `res` serializer: the status only (never the headers, which hold Set-Cookie). */
export function responseSummary(res: ServerResponse): { statusCode: number } {
  return { statusCode: res.statusCode };
}
