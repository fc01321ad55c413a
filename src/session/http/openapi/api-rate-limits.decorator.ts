import { applyDecorators } from '@nestjs/common';
import { LoginThrottledError, RateLimitedError } from '../../errors/session.errors.js';
import { ApiError, RETRY_AFTER_HEADER } from './api-error.decorator.js';

/**
 * Documents the 429 of a route under a per-address rate limit of the module (`rateLimit`, or
 * `loginRateLimit` for `@LoginThrottle()` routes): the error body and its `Retry-After`.
 * @param description who is limited; defaults to "Too many requests from this client IP."
 */
export const ApiRateLimited = (description = 'Too many requests from this client IP.') =>
  ApiError(429, new RateLimitedError(1).message, { description, headers: RETRY_AFTER_HEADER });

/**
 * Documents both 429s of a route that checks a password (`@ChecksPassword()`: login, a password
 * change, an account deletion): the per-address limit shared by every such route, and the
 * per-(account, network) backoff of `PasswordAttempts`. Every such route documents them alike.
 */
export const ApiPasswordCheckLimits = () =>
  applyDecorators(
    ApiRateLimited('Too many password checks (logins and every other route that checks a password) from this client IP.'),
    ApiError(429, new LoginThrottledError(1).message, {
      description: 'Too many wrong passwords for this account from this network (at login or on any route that checks one).',
      headers: RETRY_AFTER_HEADER,
    }),
  );
