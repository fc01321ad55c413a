import { validate } from 'class-validator';
import { charCount, MaxChars } from './max-chars.js';

class Labelled {
  @MaxChars(3)
  label!: unknown;
}

const errorsFor = async (label: unknown) => {
  const value = Object.assign(new Labelled(), { label });
  return (await validate(value)).flatMap((e) => Object.values(e.constraints ?? {}));
};

describe('MaxChars', () => {
  it('counts code points, as PostgreSQL counts characters', () => {
    expect(charCount('a\uFE0Fb\uFE0F')).toBe(4);
    expect(charCount('😀😀')).toBe(2);
    expect(charCount('\uD800x')).toBe(2);
  });

  it('accepts up to the limit, refuses past it with MaxLength\'s message, and refuses non-strings', async () => {
    expect(await errorsFor('abc')).toEqual([]);
    expect(await errorsFor('😀😀😀')).toEqual([]);
    // MaxLength counts "a\uFE0F" as one character: two of them pass it, with 4 characters.
    expect(await errorsFor('a\uFE0Fb\uFE0F')).toEqual(['label must be shorter than or equal to 3 characters']);
    expect(await errorsFor(12)).toEqual(['label must be shorter than or equal to 3 characters']);
  });
});
