import type { AuthenticatedSession } from '../session.types.js';

/** Request property where `SessionAuthGuard` puts the `AuthenticatedSession` (read it with `requestSession`). */
const REQUEST_SESSION_KEY = 'authSession';

/**
 * The session `SessionAuthGuard` authenticated this request with (Express request or Fastify
 * request alike), or undefined when none did: for the app's own logging, metrics, interceptors and
 * guards. In handlers, `@CurrentSession()` and `@CurrentUser()` give the same.
 */
export function requestSession(req: object): AuthenticatedSession | undefined {
  return (req as Record<string, AuthenticatedSession | undefined>)[REQUEST_SESSION_KEY];
}

/** Records the request's session (the guard does, once it validated the token). */
export function attachRequestSession(req: object, session: AuthenticatedSession): void {
  (req as Record<string, AuthenticatedSession>)[REQUEST_SESSION_KEY] = session;
}
