import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { deriveToken, hashToken, mintRotationSecret, mintToken, sameHash, TokenKind, verifyToken } from './tokens.js';

const KEY = 'k'.repeat(40);
const OTHER_KEY = 'o'.repeat(40);
const OLD_KEY = 'old-key-0123456789-0123456789-0123456789';
const NEW_KEY = 'new-key-0123456789-0123456789-0123456789';
const KEYS = [KEY];

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** `sa_`/`sr_` + base64url of 48 bytes (32 random + 16 tag) = 3 + 64 characters. */
const TOKEN_LENGTH = 67;
const PREFIXES: Record<TokenKind, string> = { access: 'sa_', refresh: 'sr_' };
const KINDS: TokenKind[] = ['access', 'refresh'];

function replaceAt(s: string, index: number, ch: string): string {
  return s.slice(0, index) + ch + s.slice(index + 1);
}

describe('tokens', () => {
  describe('deriveToken', () => {
    const from = mintToken('refresh', KEYS);

    it.each(KINDS)('derives a %s token of the documented shape, tagged by the signing key', (kind) => {
      const token = deriveToken(kind, KEYS, from, mintRotationSecret());
      expect(token).toHaveLength(TOKEN_LENGTH);
      expect(token.startsWith(PREFIXES[kind])).toBe(true);
      expect(verifyToken(token, kind, KEYS)).toBe(true);
    });

    it('is the same for the same token and rotation secret (a retry gets the same pair)', () => {
      const secret = mintRotationSecret();
      expect(deriveToken('refresh', KEYS, from, secret)).toBe(deriveToken('refresh', KEYS, from, secret));
    });

    it('differs with the rotation secret: the key and the token alone do not give the successor', () => {
      const successors = new Set(Array.from({ length: 50 }, () => deriveToken('refresh', KEYS, from, mintRotationSecret())));
      expect(successors.size).toBe(50);
      expect(deriveToken('access', KEYS, from, 'a')).not.toBe(deriveToken('access', KEYS, from, 'b'));
    });

    it('rotation secrets are 32 random bytes, base64url, distinct', () => {
      const secrets = new Set(Array.from({ length: 1000 }, () => mintRotationSecret()));
      expect(secrets.size).toBe(1000);
      for (const secret of secrets) expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    });
  });

  describe('mintToken', () => {
    it.each(KINDS)('mints a %s token of the documented shape', (kind) => {
      const token = mintToken(kind, KEYS);
      expect(token).toHaveLength(TOKEN_LENGTH);
      expect(token.startsWith(PREFIXES[kind])).toBe(true);
      expect(token.slice(3)).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(verifyToken(token, kind, KEYS)).toBe(true);
    });

    it('carries 32 random bytes (256 bits): the first 32 decoded bytes are distinct across many mints', () => {
      const count = 5000;
      const tokens = new Set<string>();
      const randomParts = new Set<string>();
      for (let i = 0; i < count; i++) {
        const token = mintToken('access', KEYS);
        tokens.add(token);
        const raw = Buffer.from(token.slice(3), 'base64url');
        expect(raw).toHaveLength(48);
        randomParts.add(raw.subarray(0, 32).toString('hex'));
      }
      expect(tokens.size).toBe(count);
      expect(randomParts.size).toBe(count);
    });

    it('the random part is not biased: every byte value shows up and bits are roughly balanced', () => {
      const seen = new Set<number>();
      let ones = 0;
      let bits = 0;
      for (let i = 0; i < 500; i++) {
        const raw = Buffer.from(mintToken('refresh', KEYS).slice(3), 'base64url').subarray(0, 32);
        for (const byte of raw) {
          seen.add(byte);
          for (let b = 0; b < 8; b++) ones += (byte >> b) & 1;
          bits += 8;
        }
      }
      expect(seen.size).toBe(256);
      // 128,000 bits: a fair source lands within a few tenths of a percent of 50%.
      expect(ones / bits).toBeGreaterThan(0.48);
      expect(ones / bits).toBeLessThan(0.52);
    });
  });

  describe('verifyToken', () => {
    it('access and refresh tokens are not interchangeable', () => {
      const access = mintToken('access', KEYS);
      const refresh = mintToken('refresh', KEYS);
      expect(verifyToken(access, 'refresh', KEYS)).toBe(false);
      expect(verifyToken(refresh, 'access', KEYS)).toBe(false);
    });

    it('the kind is bound by the tag, not only by the prefix (relabelled prefix is refused)', () => {
      const access = mintToken('access', KEYS);
      const relabelled = 'sr_' + access.slice(3);
      expect(verifyToken(relabelled, 'refresh', KEYS)).toBe(false);
      const refresh = mintToken('refresh', KEYS);
      expect(verifyToken('sa_' + refresh.slice(3), 'access', KEYS)).toBe(false);
    });

    it.each(KINDS)('refuses a %s token signed with another key', (kind) => {
      const foreign = mintToken(kind, [OTHER_KEY]);
      expect(verifyToken(foreign, kind, KEYS)).toBe(false);
      expect(verifyToken(foreign, kind, [OTHER_KEY])).toBe(true);
    });

    it('refuses everything when no key is configured', () => {
      expect(verifyToken(mintToken('access', KEYS), 'access', [])).toBe(false);
    });

    describe('key rotation', () => {
      it.each(KINDS)('%s tokens minted under [old] still verify under [new, old]', (kind) => {
        const token = mintToken(kind, [OLD_KEY]);
        expect(verifyToken(token, kind, [NEW_KEY, OLD_KEY])).toBe(true);
      });

      it.each(KINDS)('%s tokens minted under [new, old] are signed with the new key', (kind) => {
        const token = mintToken(kind, [NEW_KEY, OLD_KEY]);
        expect(verifyToken(token, kind, [NEW_KEY])).toBe(true);
        expect(verifyToken(token, kind, [OLD_KEY])).toBe(false);
        expect(verifyToken(token, kind, [NEW_KEY, OLD_KEY])).toBe(true);
        expect(verifyToken(token, kind, [OLD_KEY, NEW_KEY])).toBe(true);
      });

      it('once the old key is dropped, tokens it signed are refused', () => {
        const token = mintToken('access', [OLD_KEY]);
        expect(verifyToken(token, 'access', [NEW_KEY])).toBe(false);
      });
    });

    it.each(KINDS)('refuses a %s token with any single character changed (exhaustive over positions)', (kind) => {
      const token = mintToken(kind, KEYS);
      for (let i = 0; i < token.length; i++) {
        const original = token[i];
        // A neighbour in the base64url alphabet, and a character outside it.
        const next = BASE64URL_ALPHABET[(BASE64URL_ALPHABET.indexOf(original) + 1) % 64];
        const candidates = [next, '=', '.', ' '].filter((c) => c !== original);
        for (const ch of candidates) {
          expect(verifyToken(replaceAt(token, i, ch), kind, KEYS)).toBe(false);
        }
      }
    });

    it('refuses a token with a character added, removed, or padding appended', () => {
      const token = mintToken('access', KEYS);
      expect(verifyToken(token + 'A', 'access', KEYS)).toBe(false);
      expect(verifyToken(token.slice(0, -1), 'access', KEYS)).toBe(false);
      expect(verifyToken(token.slice(1), 'access', KEYS)).toBe(false);
      expect(verifyToken(token + '=', 'access', KEYS)).toBe(false);
      expect(verifyToken(token + '==', 'access', KEYS)).toBe(false);
      expect(verifyToken(` ${token}`, 'access', KEYS)).toBe(false);
      expect(verifyToken(`${token}\n`, 'access', KEYS)).toBe(false);
      expect(verifyToken(token.toUpperCase(), 'access', KEYS)).toBe(false);
    });

    it('refuses the standard-base64 spelling of a valid token body', () => {
      // Find a token whose body contains "-" or "_" and spell it with "+" / "/".
      let token = mintToken('access', KEYS);
      while (!/[-_]/.test(token.slice(3))) token = mintToken('access', KEYS);
      const standard = token.slice(0, 3) + token.slice(3).replace(/-/g, '+').replace(/_/g, '/');
      expect(verifyToken(standard, 'access', KEYS)).toBe(false);
    });

    it('refuses wrong prefixes and separators', () => {
      const body = mintToken('access', KEYS).slice(3);
      for (const prefix of ['sr_', 'SA_', 'sa-', 'sa.', 'xa_', 'sa ', 'as_', '__', 'sa']) {
        expect(verifyToken(prefix + body, 'access', KEYS)).toBe(false);
      }
    });

    const longToken = 'sa_' + 'A'.repeat(20_000);
    const odd: Array<[string, unknown]> = [
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['NaN', Number.NaN],
      ['a bigint', BigInt(1)],
      ['a boolean', true],
      ['a symbol', Symbol('sa_')],
      ['a function', () => 'sa_'],
      ['an object', { token: 'sa_' }],
      ['an object with a length of 67', { length: TOKEN_LENGTH, startsWith: () => true }],
      ['an array', ['sa_']],
      ['a Buffer', Buffer.alloc(TOKEN_LENGTH, 'a')],
      ['a String object', new String('sa_' + 'A'.repeat(64))],
      ['the empty string', ''],
      ['the prefix alone', 'sa_'],
      ['a 20 kB string', longToken],
      ['a string of the right length full of NUL', 'sa_' + '\0'.repeat(64)],
      ['the right length with a NUL inside', 'sa_' + 'A'.repeat(31) + '\0' + 'A'.repeat(32)],
      ['the right length with CRLF inside', 'sa_' + 'A'.repeat(31) + '\r\n' + 'A'.repeat(31)],
      ['the right length with an emoji (2 UTF-16 units)', 'sa_' + 'A'.repeat(62) + '😀'],
      ['the right length of spaces', 'sa_' + ' '.repeat(64)],
      ['the right length of "="', 'sa_' + '='.repeat(64)],
      ['a well-formed but never minted token', 'sa_' + 'A'.repeat(64)],
      ['a JWT-looking string', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'],
    ];

    it.each(odd)('returns false without throwing for %s', (_label, input) => {
      for (const kind of KINDS) {
        expect(() => verifyToken(input, kind, KEYS)).not.toThrow();
        expect(verifyToken(input, kind, KEYS)).toBe(false);
      }
    });

    it('property: any string that is not a minted token is refused, without throwing', () => {
      const tokenShaped = (prefix: string) =>
        fc
          .string({ unit: fc.constantFrom(...BASE64URL_ALPHABET.split('')), minLength: 64, maxLength: 64 })
          .map((body) => prefix + body);
      const arbitrary = fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'grapheme', minLength: 60, maxLength: 70 }),
        fc.string({ unit: 'binary', minLength: 64, maxLength: 64 }).map((s) => 'sa_' + s),
        tokenShaped('sa_'),
        tokenShaped('sr_'),
      );
      fc.assert(
        fc.property(arbitrary, fc.constantFrom(...KINDS), (input, kind) => {
          expect(verifyToken(input, kind, KEYS)).toBe(false);
        }),
        { numRuns: 2000 },
      );
    });

    it('property: a token with a single mutated character is refused', () => {
      const access = mintToken('access', KEYS);
      const refresh = mintToken('refresh', KEYS);
      fc.assert(
        fc.property(
          fc.constantFrom(...KINDS),
          fc.nat({ max: TOKEN_LENGTH - 1 }),
          fc.oneof(
            fc.constantFrom(...BASE64URL_ALPHABET.split('')),
            fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
          ),
          fc.boolean(),
          (kind, index, ch, fresh) => {
            const token = fresh ? mintToken(kind, KEYS) : kind === 'access' ? access : refresh;
            fc.pre(token[index] !== ch);
            expect(verifyToken(replaceAt(token, index, ch), kind, KEYS)).toBe(false);
          },
        ),
        { numRuns: 3000 },
      );
    });
  });

  describe('hashToken', () => {
    it('is the SHA-256 of the token in base64url (43 characters, no padding)', () => {
      const token = mintToken('access', KEYS);
      const hash = hashToken(token);
      expect(hash).toHaveLength(43);
      expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(hash).toBe(createHash('sha256').update(token).digest('base64url'));
    });

    it('matches a known SHA-256 vector', () => {
      // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
      expect(hashToken('abc')).toBe(
        Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString(
          'base64url',
        ),
      );
    });

    it('is deterministic and differs for different tokens', () => {
      const a = mintToken('access', KEYS);
      const b = mintToken('access', KEYS);
      expect(hashToken(a)).toBe(hashToken(a));
      expect(hashToken(a)).not.toBe(hashToken(b));
    });

    it('never contains the token itself', () => {
      const token = mintToken('refresh', KEYS);
      expect(hashToken(token)).not.toContain(token.slice(3, 13));
    });
  });

  describe('sameHash', () => {
    it('is true for equal hashes and false otherwise', () => {
      const a = hashToken(mintToken('access', KEYS));
      const b = hashToken(mintToken('access', KEYS));
      expect(sameHash(a, a)).toBe(true);
      expect(sameHash(a, `${a}`.slice(0))).toBe(true);
      expect(sameHash(a, b)).toBe(false);
      expect(sameHash(a, replaceAt(a, 42, a[42] === 'A' ? 'B' : 'A'))).toBe(false);
    });

    it('is false, without throwing, for different lengths and empty strings', () => {
      const a = hashToken('x');
      expect(() => sameHash(a, a.slice(0, -1))).not.toThrow();
      expect(sameHash(a, a.slice(0, -1))).toBe(false);
      expect(sameHash(a, a + 'A')).toBe(false);
      expect(sameHash(a, '')).toBe(false);
      expect(sameHash('', a)).toBe(false);
      expect(sameHash('', '')).toBe(true);
    });

    it('property: agrees with string equality', () => {
      fc.assert(
        fc.property(fc.string(), fc.string(), (a, b) => {
          expect(sameHash(a, b)).toBe(a === b);
          expect(sameHash(a, a)).toBe(true);
        }),
        { numRuns: 500 },
      );
    });
  });
});
