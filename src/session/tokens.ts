import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque session tokens: `<kind>_<base64url(32 random bytes ‖ 16-byte HMAC tag)>`.
 *
 * The tag (HMAC-SHA256 over kind and random part, truncated to 128 bits) lets the server refuse a
 * token it never issued before any database or cache round trip. Only the SHA-256 of a token is
 * ever stored.
 */
export type TokenKind = 'access' | 'refresh';

const PREFIX: Record<TokenKind, string> = { access: 'sa', refresh: 'sr' };
const RANDOM_BYTES = 32;
const TAG_BYTES = 16;
const BODY_LENGTH = Math.ceil(((RANDOM_BYTES + TAG_BYTES) * 4) / 3);
const TOKEN_LENGTH = 3 + BODY_LENGTH;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function tag(key: string, kind: TokenKind, random: Buffer): Buffer {
  return createHmac('sha256', key)
    .update(PREFIX[kind])
    .update(random)
    .digest()
    .subarray(0, TAG_BYTES);
}

/** Mints a new token of `kind`, tagged with the first (signing) key. */
export function mintToken(kind: TokenKind, keys: readonly string[]): string {
  const random = randomBytes(RANDOM_BYTES);
  const body = Buffer.concat([random, tag(keys[0], kind, random)]).toString('base64url');
  return `${PREFIX[kind]}_${body}`;
}

/** A fresh secret for one rotation: 32 random bytes, base64url (43 characters). */
export function mintRotationSecret(): string {
  return randomBytes(RANDOM_BYTES).toString('base64url');
}

/**
 * The successor of `from` in the rotation that drew `rotationSecret`: a token of `kind` whose
 * random part is HMAC-SHA256, under the signing key, of `from` and that secret, tagged like any
 * other. The same every time for the same token and rotation — so a refresh retried with the same
 * token (two tabs racing) yields the same new pair instead of a second, diverging one — and not
 * computable from the key and `from` alone: the secret is random per rotation and kept only with
 * the session (`SessionRecord.rotationSecret`), replaced by the next rotation.
 */
export function deriveToken(kind: TokenKind, keys: readonly string[], from: string, rotationSecret: string): string {
  const random = createHmac('sha256', keys[0])
    .update(`derive|${PREFIX[kind]}|`)
    .update(from)
    .update('|')
    .update(rotationSecret)
    .digest();
  const body = Buffer.concat([random, tag(keys[0], kind, random)]).toString('base64url');
  return `${PREFIX[kind]}_${body}`;
}

/** True when `token` has the shape of a token of `kind` (no key involved). Never throws. */
export function isWellFormed(token: unknown, kind: TokenKind): token is string {
  return (
    typeof token === 'string' &&
    token.length === TOKEN_LENGTH &&
    token.startsWith(PREFIX[kind]) &&
    token.charCodeAt(2) === 95 /* _ */ &&
    BASE64URL.test(token.slice(3))
  );
}

/**
 * True when `token` is well formed, of `kind`, and tagged by one of `keys`.
 * Runs in constant time with respect to the tag; never throws on any input.
 */
export function verifyToken(token: unknown, kind: TokenKind, keys: readonly string[]): boolean {
  if (!isWellFormed(token, kind)) return false;
  const raw = Buffer.from(token.slice(3), 'base64url');
  if (raw.length !== RANDOM_BYTES + TAG_BYTES) return false;
  const random = raw.subarray(0, RANDOM_BYTES);
  const presented = raw.subarray(RANDOM_BYTES);
  let valid = false;
  for (const key of keys) {
    // Every key is tried, so the time does not say which one matched.
    if (timingSafeEqual(tag(key, kind, random), presented)) valid = true;
  }
  return valid;
}

/** The SHA-256 of a token, base64url: what the store and the cache keep instead of the token. */
export function hashToken(token: string): string {
  // One-shot: no Hash object per call (this runs on every validation).
  return hash('sha256', token, 'base64url');
}

/** Constant-time equality of two token hashes. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
