import fc from 'fast-check';
import { normalizeEmail } from './normalize-email.js';

describe('normalizeEmail', () => {
  it.each([
    ['ADA@Example.COM', 'ada@example.com'],
    ['\uff41\uff44\uff4d\uff49\uff4e@\uff45xample.com', 'admin@example.com'],
    ['\uFF21\uFF24\uFF2D\uFF29\uFF2E@example\uFF0Ecom', 'admin@example.com'],
    ['\ufb01nn@example.com', 'finn@example.com'],
    ['rene\u0301@example.com', 'ren\u00e9@example.com'],
    ['\u0130@example.com', 'i\u0307@example.com'],
    // No composed capital, a composed small letter: NFKC again after lower-casing.
    ['H\u0331@example.com', '\u1e96@example.com'],
    ['  ada@example.com\u3000', 'ada@example.com'],
  ])('%j becomes %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  it('leaves look-alikes from other scripts alone (the skeleton catches those)', () => {
    expect(normalizeEmail('\u0430dmin@example.com')).toBe('\u0430dmin@example.com');
  });

  it('is idempotent on every code point', () => {
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const once = normalizeEmail(`a${String.fromCodePoint(cp)}b`);
      if (normalizeEmail(once) !== once) expect.fail(`U+${cp.toString(16)}: ${JSON.stringify(once)} normalizes again`);
    }
  });

  it('is idempotent on every cased letter followed by a combining mark', () => {
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const letter = String.fromCodePoint(cp);
      if (letter.toLowerCase() === letter) continue;
      for (let mark = 0x300; mark <= 0x36f; mark++) {
        const once = normalizeEmail(letter + String.fromCodePoint(mark));
        if (normalizeEmail(once) !== once) expect.fail(`U+${cp.toString(16)} U+${mark.toString(16)}: ${JSON.stringify(once)} normalizes again`);
      }
    }
  });

  it('is idempotent on any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-composite' }), (s) => normalizeEmail(normalizeEmail(s)) === normalizeEmail(s)));
  });
});
