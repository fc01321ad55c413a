import { csrfTokenFor, csrfTokenOfRefreshToken, csrfTokenOfSession } from './csrf-token.js';

const KEY = 'k'.repeat(32);
const OLD_KEY = 'o'.repeat(32);
const SESSION = '5f0c6a2e-8d1b-4c3a-9e7f-2a1b3c4d5e6f';
const OTHER_SESSION = '6f0c6a2e-8d1b-4c3a-9e7f-2a1b3c4d5e6f';

describe('signed double-submit CSRF value', () => {
  it('verifies for the session and the refresh token it was issued with', () => {
    const value = csrfTokenFor([KEY], SESSION, 'sr_refresh');
    expect(csrfTokenOfSession(value, SESSION, [KEY])).toBe(true);
    expect(csrfTokenOfRefreshToken(value, 'sr_refresh', [KEY])).toBe(true);
  });

  it('is refused for another session, another refresh token, or under another key', () => {
    const value = csrfTokenFor([KEY], SESSION, 'sr_refresh');
    expect(csrfTokenOfSession(value, OTHER_SESSION, [KEY])).toBe(false);
    expect(csrfTokenOfRefreshToken(value, 'sr_other', [KEY])).toBe(false);
    expect(csrfTokenOfSession(value, SESSION, [OLD_KEY])).toBe(false);
    expect(csrfTokenOfRefreshToken(value, 'sr_refresh', [OLD_KEY])).toBe(false);
  });

  it('is the same for the same pair (a refresh retried in the grace window) and new for the next pair', () => {
    expect(csrfTokenFor([KEY], SESSION, 'sr_refresh')).toBe(csrfTokenFor([KEY], SESSION, 'sr_refresh'));
    expect(csrfTokenFor([KEY], SESSION, 'sr_next')).not.toBe(csrfTokenFor([KEY], SESSION, 'sr_refresh'));
  });

  it('made under a key that is no longer the first still verifies (key rotation)', () => {
    const value = csrfTokenFor([OLD_KEY], SESSION, 'sr_refresh');
    expect(csrfTokenOfSession(value, SESSION, [KEY, OLD_KEY])).toBe(true);
    expect(csrfTokenOfRefreshToken(value, 'sr_refresh', [KEY, OLD_KEY])).toBe(true);
  });

  it('refuses unsigned random values and anything of another shape, without throwing', () => {
    const value = csrfTokenFor([KEY], SESSION, 'sr_refresh');
    const [nonce] = value.split('.');
    for (const forged of ['', 'x', 'a'.repeat(32), `${nonce}.${'A'.repeat(22)}`, `${value}x`, `${value}.`, value.replace('.', '')]) {
      expect(csrfTokenOfSession(forged, SESSION, [KEY])).toBe(false);
    }
    expect(csrfTokenOfRefreshToken(`${'A'.repeat(24)}.${value.split('.')[1]}`, 'sr_refresh', [KEY])).toBe(false);
  });
});
