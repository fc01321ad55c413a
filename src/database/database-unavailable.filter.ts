import { ArgumentsHost, Catch, HttpException, ServiceUnavailableException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGE = /connection terminated|timeout exceeded when trying to connect|connection timeout|Connection is not established|the database system is (starting up|shutting down)/i;

/** True for a database that cannot be reached (as opposed to a query that is wrong). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown };
  const code = e?.driverError?.code ?? e?.code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^(08|57P)/.test(code))) return true;
  if (error instanceof QueryFailedError) return false;
  return typeof e?.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message);
}

/** An unreachable database answers 503 with Retry-After (a short outage, not a bug); anything else as Nest does. */
@Catch()
export class DatabaseUnavailableFilter extends BaseExceptionFilter {
  override catch(error: unknown, host: ArgumentsHost): void {
    if (!(error instanceof HttpException) && isDatabaseUnavailable(error)) {
      const res = host.switchToHttp().getResponse();
      const adapter = this.httpAdapterHost!.httpAdapter;
      const exception = new ServiceUnavailableException('Database unavailable, try again shortly');
      adapter.setHeader(res, 'Retry-After', '5');
      adapter.reply(res, exception.getResponse(), exception.getStatus());
      return;
    }
    super.catch(error, host);
  }
}
