/**
 * Domain errors of the session lifecycle. They say what went wrong, never which secret;
 * `http/session-exception.filter.ts` is the one place that turns them into HTTP answers.
 */
export abstract class SessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * Why a token was refused (for logs and metrics; every one answers the same 401):
 * none sent, malformed or forged, not (or no longer) known, expired or idle, revoked, presented
 * from another client, rotated away and presented again, or its user is gone.
 */
export type InvalidTokenReason = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked' | 'binding' | 'reuse' | 'user_gone';

/** The token is malformed, forged, expired, revoked, or its session is over. */
export class InvalidTokenError extends SessionError {
  constructor(readonly detail: InvalidTokenReason = 'unknown') {
    super('Invalid or expired token');
  }
}

/** A refresh token that was already rotated away came back: its session is revoked. */
export class RefreshTokenReuseError extends InvalidTokenError {
  constructor(readonly sessionId: string) {
    super('reuse');
  }
}

/** Email or password is wrong (deliberately not saying which). */
export class InvalidCredentialsError extends SessionError {
  constructor() {
    super('Invalid credentials');
  }
}

/** The route needs a recent login (`@FreshSession`) and this session's is too old. */
export class StaleSessionError extends SessionError {
  constructor() {
    super('Recent authentication required');
  }
}

/** Too many failed logins for this account from this network: wait `retryAfter` seconds. */
export class LoginThrottledError extends SessionError {
  constructor(readonly retryAfter: number) {
    super('Too many failed login attempts, try again later');
  }
}

/**
 * Too many requests from this client on a rate-limited route (`@nestjs/throttler`'s limits:
 * `rateLimit`, `loginRateLimit`): wait `retryAfter` seconds.
 */
export class RateLimitedError extends SessionError {
  constructor(readonly retryAfter: number) {
    super('Too many requests, try again later');
  }
}

/** No live session with that id (of that user). */
export class SessionNotFoundError extends SessionError {
  constructor() {
    super('Session not found');
  }
}

/** A cookie-authenticated unsafe request without the matching `X-CSRF-Token` header. */
export class CsrfTokenError extends SessionError {
  constructor() {
    super('Missing or invalid CSRF token');
  }
}

/**
 * The moment given to `SessionService.endSessionsIssuedBefore` is not a valid date, or lies in the
 * future (ending sessions that are yet to be issued is never what an operator means).
 */
export class InvalidNotBeforeError extends SessionError {
  constructor(readonly problem: 'invalid' | 'future') {
    super(problem === 'future' ? 'before must not be in the future' : 'before must be a valid date');
  }
}

/**
 * A change given to `SessionService.changeLiveSessions` that a session cannot carry: a role that
 * is not 1 to 64 characters of letters, digits and `_ . : -`, more than 32 roles, or `data` that
 * is not a plain JSON object.
 */
export class InvalidSessionChangeError extends SessionError {
  constructor(message: string) {
    super(message);
  }
}

/** The session store (PostgreSQL) cannot be reached; writes cannot happen now. */
export class SessionStoreUnavailableError extends SessionError {
  constructor(override readonly cause?: unknown) {
    super('Session store unavailable, try again shortly');
  }
}
