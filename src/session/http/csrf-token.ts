import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `__Host-csrf` value: OWASP's signed double-submit token, `<nonce>.<mac>`.
 *
 * - `nonce` = HMAC-SHA256(key, "csrf-nonce|" ‖ refresh token), 144 bits: unpredictable without the
 *   key, and says which token pair it was issued with, so a refresh by cookie can check it before
 *   it rotates anything (the refresh token's session is not known until then);
 * - `mac` = HMAC-SHA256(key, "csrf|" ‖ session id ‖ "|" ‖ nonce), 128 bits: binds it to the session.
 *
 * A value planted by a sibling subdomain (or a man in the middle on plain HTTP), or copied from
 * another session, fails both checks, so it passes neither the access-cookie check nor a refresh by
 * cookie, even when the header repeats it. Derived, not drawn, so a refresh retried within the grace
 * window (the same new pair) also sets the same value. Signed with the first key; every key verifies.
 */
const NONCE_BYTES = 18;
const MAC_BYTES = 16;
const SHAPE = /^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{22}$/;

const nonceOf = (key: string, refreshToken: string) =>
  createHmac('sha256', key).update('csrf-nonce|').update(refreshToken).digest().subarray(0, NONCE_BYTES).toString('base64url');

const macOf = (key: string, sessionId: string, nonce: string) =>
  createHmac('sha256', key).update(`csrf|${sessionId}|${nonce}`).digest().subarray(0, MAC_BYTES).toString('base64url');

/** Constant-time equality of two strings of the same alphabet. */
function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Every key is tried, so the time does not say which one matched. */
function anyKey(keys: readonly string[], matches: (key: string) => boolean): boolean {
  let found = false;
  for (const key of keys) if (matches(key)) found = true;
  return found;
}

/** The CSRF value issued with a session's token pair (login or refresh). */
export function csrfTokenFor(keys: readonly string[], sessionId: string, refreshToken: string): string {
  const nonce = nonceOf(keys[0], refreshToken);
  return `${nonce}.${macOf(keys[0], sessionId, nonce)}`;
}

/** True when `value` was issued for this session (what a request authenticated by the access cookie needs). */
export function csrfTokenOfSession(value: string, sessionId: string, keys: readonly string[]): boolean {
  if (!SHAPE.test(value)) return false;
  const [nonce, mac] = value.split('.');
  return anyKey(keys, (key) => same(macOf(key, sessionId, nonce), mac));
}

/** True when `value` was issued with this refresh token (what a refresh by cookie needs). */
export function csrfTokenOfRefreshToken(value: string, refreshToken: string, keys: readonly string[]): boolean {
  if (!SHAPE.test(value)) return false;
  const nonce = value.slice(0, value.indexOf('.'));
  return anyKey(keys, (key) => same(nonceOf(key, refreshToken), nonce));
}
