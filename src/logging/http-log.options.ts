import { stdSerializers, type LevelWithSilent } from 'pino';
import type { Options } from 'pino-http';
import { REDACTED_PATHS } from './redacted-paths';
import { assignRequestId } from './request-id';
import {
  failedRequestLine,
  type LoggedRequest,
  requestLine,
  requestLogLevel,
  requestSummary,
  responseSummary,
} from './request-line';

/**
 * The options of the app's pino-http instance (and so of its one pino logger): one flat line per
 * request, and `reqId` on every line logged while the request is handled.
 * @param level the lowest level written; `silent` writes nothing
 */
export function httpLogOptions(level: LevelWithSilent): Options<LoggedRequest> {
  return {
    level,
    redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' },
    // Unwrapped, the serializers see the Node objects directly instead of a copy of every header.
    wrapSerializers: false,
    serializers: { req: requestSummary, res: responseSummary, err: stdSerializers.err },
    // On Fastify the id is already on the request (the adapter's `genReqId`): this runs on Express.
    genReqId: assignRequestId,
    // Lines logged during a request carry only its id; the request line carries the rest.
    quietReqLogger: true,
    quietResLogger: true,
    customLogLevel: requestLogLevel,
    customSuccessObject: requestLine,
    customErrorObject: failedRequestLine,
  };
}
