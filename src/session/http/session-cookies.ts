import { parse } from 'cookie';

/** Names and attributes of the cookie transport (see the contract's "Cookies and CSRF"). */
export const ACCESS_COOKIE = '__Host-access';
export const REFRESH_COOKIE = '__Secure-refresh';
export const CSRF_COOKIE = '__Host-csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface CookieSpec {
  name: string;
  value: string;
  options: {
    httpOnly: boolean;
    secure: true;
    sameSite: 'lax' | 'strict';
    path: string;
    maxAge?: number;
  };
}

/** What the cookies of one login or refresh carry. */
export interface SessionCookieValues {
  accessToken: string;
  refreshToken: string;
  /** The signed double-submit value (`csrfTokenFor`). */
  csrfToken: string;
  /** Seconds the access cookie lives. */
  accessMaxAge: number;
  /** Seconds the refresh and CSRF cookies live. */
  refreshMaxAge: number;
}

/**
 * The three cookies a login or refresh sets; `maxAge` in milliseconds.
 * @param refreshPath where the refresh cookie is sent: the path of the refresh route's controller
 */
export function sessionCookies(values: SessionCookieValues, refreshPath: string): CookieSpec[] {
  return [
    {
      name: ACCESS_COOKIE,
      value: values.accessToken,
      options: { httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: values.accessMaxAge * 1000 },
    },
    {
      name: REFRESH_COOKIE,
      value: values.refreshToken,
      options: {
        httpOnly: true,
        secure: true,
        sameSite: 'strict',
        path: refreshPath,
        maxAge: values.refreshMaxAge * 1000,
      },
    },
    {
      name: CSRF_COOKIE,
      value: values.csrfToken,
      options: { httpOnly: false, secure: true, sameSite: 'strict', path: '/', maxAge: values.refreshMaxAge * 1000 },
    },
  ];
}

/** The same cookies, expired: what logout sends. */
export function clearedSessionCookies(refreshPath: string): CookieSpec[] {
  return sessionCookies({ accessToken: '', refreshToken: '', csrfToken: '', accessMaxAge: 0, refreshMaxAge: 0 }, refreshPath);
}

/** Cookies of a request, whether or not the app installed cookie-parser. */
export function requestCookies(req: { cookies?: Record<string, string>; headers: Record<string, unknown> }): Record<string, string | undefined> {
  if (req.cookies && typeof req.cookies === 'object') return req.cookies;
  const header = req.headers.cookie;
  return typeof header === 'string' ? parse(header) : {};
}

/** An Express response (`cookie`) or a Fastify reply with `@fastify/cookie` (`setCookie`). */
export interface CookieResponse {
  cookie?: (name: string, value: string, options: object) => unknown;
  setCookie?: (name: string, value: string, options: object) => unknown;
}

/** Sets cookies on an Express response or a Fastify reply (with `@fastify/cookie`). */
export function writeCookies(res: CookieResponse, cookies: CookieSpec[]): void {
  for (const { name, value, options } of cookies) {
    if (typeof res.setCookie === 'function') {
      // @fastify/cookie takes maxAge in seconds.
      res.setCookie(name, value, { ...options, maxAge: options.maxAge === undefined ? undefined : Math.floor(options.maxAge / 1000) });
    } else if (typeof res.cookie === 'function') {
      res.cookie(name, value, options);
    }
  }
}
