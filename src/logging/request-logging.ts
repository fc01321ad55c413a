import { PinoLogger } from 'nestjs-pino';
import type { RequestObserver } from '../http/request-observer';
import { requestLine, requestLogLevel } from './request-line';

/**
 * One JSON line per answered request (`request completed`: reqId, method, path without the
 * query, status, responseTime, userAgent, and userId and sessionId when a session was
 * authenticated). An observer for `observeRequests`: it allocates no logger and no async
 * context per request; when `info` is off, a request costs a level check.
 */
export function requestLines(): RequestObserver {
  return ({ id, raw, authenticated, status, ms }) => {
    const logger = PinoLogger.root;
    const level = requestLogLevel(status);
    if (!logger?.isLevelEnabled(level)) return;
    logger[level](requestLine(id, raw, authenticated, status, Math.round(ms)), 'request completed');
  };
}
