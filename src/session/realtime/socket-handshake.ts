import { parse } from 'cookie';
import { ACCESS_COOKIE } from '../http/session-cookies.js';

/** What a socket handshake shows: the upgrade request's headers and, for socket.io, its `auth` payload. */
export interface SocketHandshake {
  headers: Record<string, string | string[] | undefined>;
  /** socket.io's `auth` (`io(url, { auth: { token } })`); absent on plain WebSockets. */
  auth?: unknown;
}

/** Where a handshake's token came from. */
export type HandshakeTokenSource = 'auth' | 'bearer' | 'cookie';

/**
 * The access token of a handshake: socket.io's `auth.token`, else `Authorization: Bearer`, else
 * (with cookies on) the access cookie — only when the `Origin` is allowed (or, without one, the
 * browser says `Sec-Fetch-Site: same-origin`), since a browser sends the cookie with a socket any
 * site opens (cross-site WebSocket hijacking). A token in the query string is never read.
 * @param allowedOrigin whether a cookie-carrying handshake's `Origin` may use the cookie
 * @returns the token, or why there is none usable
 */
export function handshakeToken(
  handshake: SocketHandshake,
  cookiesEnabled: boolean,
  allowedOrigin: (origin: string, host: string | undefined) => boolean,
): { token: string; source: HandshakeTokenSource } | { token?: undefined; refused: 'missing' | 'origin' } {
  const auth = handshake.auth as { token?: unknown } | undefined;
  if (auth && typeof auth === 'object' && typeof auth.token === 'string' && auth.token) {
    return { token: auth.token.replace(/^Bearer\s+/i, ''), source: 'auth' };
  }
  const authorization = handshake.headers.authorization;
  if (typeof authorization === 'string' && /^bearer\s+/i.test(authorization)) {
    return { token: authorization.replace(/^bearer\s+/i, '').trim(), source: 'bearer' };
  }
  const cookieHeader = handshake.headers.cookie;
  if (!cookiesEnabled || typeof cookieHeader !== 'string') return { refused: 'missing' };
  const token = parse(cookieHeader)[ACCESS_COOKIE];
  if (!token) return { refused: 'missing' };
  const origin = handshake.headers.origin;
  if (typeof origin !== 'string') {
    // A browser leaves `Origin` out of a same-origin GET — socket.io's long-polling handshake from
    // the app's own page — but sends `Sec-Fetch-Site`, which no page script can set or forge.
    return handshake.headers['sec-fetch-site'] === 'same-origin' ? { token, source: 'cookie' } : { refused: 'origin' };
  }
  const host = handshake.headers.host;
  if (!allowedOrigin(origin, typeof host === 'string' ? host : undefined)) return { refused: 'origin' };
  return { token, source: 'cookie' };
}

/** `localhost`, `*.localhost`, `127.x.x.x`, `[::1]`: where browsers keep `Secure` cookies over http. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === '[::1]';

/**
 * The default rule for a cookie-carrying handshake: the `Origin` is one of `allowed` (exact
 * `scheme://host[:port]`), or, with none listed, the page is on the socket's own host (same origin)
 * and is `https:` (or `http:` on a loopback host). The access cookie is `Secure`, so no page that
 * may use it is served over plain http elsewhere; but a browser sends it to `wss://` from an
 * `http://` page of the same host (same-site unless the browser compares schemes), which a network
 * attacker can write.
 */
export function originRule(allowed: readonly string[] | undefined): (origin: string, host: string | undefined) => boolean {
  if (allowed && allowed.length > 0) {
    const set = new Set(allowed.map((o) => o.replace(/\/+$/, '').toLowerCase()));
    return (origin) => set.has(origin.toLowerCase());
  }
  return (origin, host) => {
    if (!host) return false;
    try {
      const page = new URL(origin);
      if (page.host.toLowerCase() !== host.toLowerCase()) return false;
      return page.protocol === 'https:' || (page.protocol === 'http:' && isLoopback(page.hostname.toLowerCase()));
    } catch {
      return false;
    }
  };
}
