import { ArgumentsHost, Catch, HttpException, ServiceUnavailableException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { isDatabaseUnavailable } from '../session';

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
