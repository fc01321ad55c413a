import { stdSerializers, type LevelWithSilent, type LoggerOptions } from 'pino';
import { REDACTED_PATHS } from './redacted-paths';
import { requestSummary, responseSummary } from './request-line';

/**
 * The options of the app's one pino logger: its level, and serializers and redaction that keep
 * headers, bodies and credentials out of every line.
 * @param level the lowest level written; `silent` writes nothing
 */
export function pinoOptions(level: LevelWithSilent): LoggerOptions {
  return {
    level,
    redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' },
    serializers: { req: requestSummary, res: responseSummary, err: stdSerializers.err },
  };
}
