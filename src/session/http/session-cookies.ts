import { parse } from 'cookie';
import { randomBytes } from 'node:crypto';

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

/**
 * The three cookies a login or refresh sets; `maxAge` in milliseconds.
 * @param refreshPath where the refresh cookie is sent: the path of the refresh route's controller
 */
export function sessionCookies(
  accessToken: string,
  refreshToken: string,
  accessMaxAgeSeconds: number,
  refreshMaxAgeSeconds: number,
  refreshPath: string,
): CookieSpec[] {
  return [
    {
      name: ACCESS_COOKIE,
      value: accessToken,
      options: { httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: accessMaxAgeSeconds * 1000 },
    },
    {
      name: REFRESH_COOKIE,
      value: refreshToken,
      options: {
        httpOnly: true,
        secure: true,
        sameSite: 'strict',
        path: refreshPath,
        maxAge: refreshMaxAgeSeconds * 1000,
      },
    },
    {
      name: CSRF_COOKIE,
      value: randomBytes(24).toString('base64url'),
      options: { httpOnly: false, secure: true, sameSite: 'strict', path: '/', maxAge: refreshMaxAgeSeconds * 1000 },
    },
  ];
}

/** The same cookies, expired: what logout sends. */
export function clearedSessionCookies(refreshPath: string): CookieSpec[] {
  return sessionCookies('', '', 0, 0, refreshPath).map((c) => ({ ...c, value: '', options: { ...c.options, maxAge: 0 } }));
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
