import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { SessionThrottlerGuard } from '../guards/session-throttler.guard.js';
import { LOGIN_THROTTLE_KEY, PASSWORD_CHECK_KEY } from './login-throttle.decorator.js';

/**
 * The route checks a password (login, a password change, an account deletion): it counts against
 * the login rate limit (`loginRateLimit`, per client IP, atomic across instances), in one count
 * shared by every such route and login, so one address gets that many password checks per window
 * whichever routes it uses; past it, 429 with `Retry-After` before the handler runs. Applies
 * `SessionThrottlerGuard` itself (a request is counted once when the guard is also global).
 *
 * Check the password itself with `PasswordAttempts`, which adds the per-account backoff and the
 * `login_failed` audit entry.
 */
export const ChecksPassword = () =>
  applyDecorators(SetMetadata(LOGIN_THROTTLE_KEY, true), SetMetadata(PASSWORD_CHECK_KEY, true), UseGuards(SessionThrottlerGuard));
