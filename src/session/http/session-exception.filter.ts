import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  ForbiddenException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  CsrfTokenError,
  InvalidCredentialsError,
  InvalidNotBeforeError,
  InvalidSessionChangeError,
  InvalidTokenError,
  LoginThrottledError,
  RateLimitedError,
  StaleSessionError,
  SessionError,
  SessionNotFoundError,
  SessionStoreUnavailableError,
} from '../errors/session.errors.js';

export interface MappedSessionError {
  exception: HttpException;
  headers: Record<string, string>;
}

/** The one place where a session domain error becomes an HTTP answer. */
export function mapSessionError(error: SessionError): MappedSessionError {
  if (error instanceof InvalidTokenError) {
    // One body for every token failure, so a client learns nothing about why.
    return {
      exception: new UnauthorizedException('Invalid or expired token'),
      headers: { 'WWW-Authenticate': 'Bearer' },
    };
  }
  if (error instanceof InvalidCredentialsError) {
    return { exception: new UnauthorizedException('Invalid credentials'), headers: {} };
  }
  if (error instanceof StaleSessionError) {
    return {
      exception: new UnauthorizedException('Recent authentication required'),
      headers: { 'WWW-Authenticate': 'Bearer error="insufficient_user_authentication"' },
    };
  }
  if (error instanceof LoginThrottledError || error instanceof RateLimitedError) {
    // Every 429 alike: the contract's error shape and one `Retry-After`, in whole seconds.
    return {
      exception: new HttpException(
        { statusCode: 429, message: error.message, error: 'Too Many Requests' },
        HttpStatus.TOO_MANY_REQUESTS,
      ),
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfter))) },
    };
  }
  if (error instanceof SessionNotFoundError) {
    return { exception: new NotFoundException('Session not found'), headers: {} };
  }
  if (error instanceof InvalidNotBeforeError || error instanceof InvalidSessionChangeError) {
    return { exception: new BadRequestException(error.message), headers: {} };
  }
  if (error instanceof CsrfTokenError) {
    return { exception: new ForbiddenException('Missing or invalid CSRF token'), headers: {} };
  }
  if (error instanceof SessionStoreUnavailableError) {
    return {
      exception: new ServiceUnavailableException('Session store unavailable, try again shortly'),
      headers: { 'Retry-After': '5' },
    };
  }
  return { exception: new InternalServerErrorException(), headers: {} };
}

/** An Express response or a Fastify reply: both set a header with `header(name, value)`. */
interface HeaderWriter {
  header(name: string, value: string): unknown;
}

/**
 * The HTTP exception for a domain error, with its headers (`WWW-Authenticate`, `Retry-After`)
 * already set on the response: what guards throw, so a route of the app answers right without
 * any exception filter. Anything that is not a `SessionError` comes back as it was.
 */
export function asHttpException(error: unknown, res: HeaderWriter): unknown {
  if (!(error instanceof SessionError)) return error;
  const { exception, headers } = mapSessionError(error);
  for (const [name, value] of Object.entries(headers)) res.header(name, value);
  return exception;
}

/**
 * Writes `{statusCode, message, error}` as Nest does, on Express or Fastify. The module's own
 * controllers use it; register it for the whole app with the `exceptionFilter` extra.
 */
@Catch(SessionError)
export class SessionExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: SessionError, host: ArgumentsHost): void {
    const { exception, headers } = mapSessionError(error);
    const res = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(res, name, value);
    adapter.reply(res, exception.getResponse(), exception.getStatus());
  }
}
