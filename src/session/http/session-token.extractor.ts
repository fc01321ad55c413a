import { timingSafeEqual } from 'node:crypto';
import { CsrfTokenError } from '../errors/session.errors.js';
import type { PresentedTokens } from '../session.types.js';
import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE, requestCookies } from './session-cookies.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface TokenRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  cookies?: Record<string, string>;
}

/** The access token a request presents, and how. */
export interface PresentedAccessToken {
  token: string;
  /**
   * Set when the access cookie authenticates an unsafe method: the CSRF value the request
   * double-submitted (header equal to cookie), which must still verify for the token's session
   * (`csrfTokenOfSession`) once that is known.
   */
  csrf?: string;
}

/**
 * The access token of a request: the `Authorization: Bearer` header, else (with cookies on) the
 * access cookie, which on an unsafe method needs an `X-CSRF-Token` header equal to the CSRF cookie.
 * A token in the query string is never read.
 * @throws CsrfTokenError when the access cookie is used on an unsafe method without that header
 */
export function extractAccessToken(req: TokenRequest, cookiesEnabled: boolean): PresentedAccessToken | undefined {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 7) {
    const scheme = authorization.slice(0, 7);
    if (scheme.toLowerCase() === 'bearer ') return { token: authorization.slice(7).trim() };
    return undefined;
  }
  if (!cookiesEnabled) return undefined;
  const cookies = requestCookies(req as never);
  const token = cookies[ACCESS_COOKIE];
  if (typeof token !== 'string' || !token) return undefined;
  if (SAFE_METHODS.has(req.method.toUpperCase())) return { token };
  return { token, csrf: doubleSubmittedCsrf(req, cookies[CSRF_COOKIE]) };
}

/**
 * The tokens a login request carries from the session the client had: the bearer header, else
 * the access cookie, and the refresh cookie (with cookies on). Read without the CSRF check: a
 * login only ever ends the session they belong to, never uses it.
 */
export function presentedTokens(req: TokenRequest, cookiesEnabled: boolean): PresentedTokens {
  const authorization = req.headers.authorization;
  const bearer =
    typeof authorization === 'string' && authorization.slice(0, 7).toLowerCase() === 'bearer ' ? authorization.slice(7).trim() : undefined;
  if (!cookiesEnabled) return { accessToken: bearer };
  const cookies = requestCookies(req as never);
  const cookie = (name: string) => (typeof cookies[name] === 'string' && cookies[name] ? cookies[name] : undefined);
  return { accessToken: bearer ?? cookie(ACCESS_COOKIE), refreshToken: cookie(REFRESH_COOKIE) };
}

/**
 * The double-submit half of the CSRF check: the `X-CSRF-Token` header equals the CSRF cookie
 * (constant time). The caller then checks the value's signature for the session or refresh token.
 * @returns the value
 * @throws CsrfTokenError
 */
export function doubleSubmittedCsrf(req: TokenRequest, cookie: unknown): string {
  const presented = req.headers[CSRF_HEADER];
  // cookie-parser turns `j:{…}` cookie values into objects: only a non-empty string counts.
  if (typeof cookie !== 'string' || !cookie || typeof presented !== 'string') throw new CsrfTokenError();
  const a = Buffer.from(presented);
  const b = Buffer.from(cookie);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new CsrfTokenError();
  return cookie;
}
