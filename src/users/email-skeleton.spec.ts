import { normalizeEmail } from '../session';
import { emailSkeleton } from './email-skeleton';

const skeletonOf = (email: string) => emailSkeleton(normalizeEmail(email));

describe('emailSkeleton', () => {
  it.each([
    ['Cyrillic а', '\u0430dmin@example.com'],
    ['Cyrillic capital А', '\u0410DMIN@example.com'],
    ['full-width ａ', '\uff41dmin@example.com'],
    ['Greek ο in the domain', 'admin@example.c\u03bfm'],
    ['digit 0 for o', 'admin@example.c0m'],
    ['rn for m', 'adrnin@example.com'],
    ['dotless ı', 'adm\u0131n@example.com'],
    ['a variation selector', 'admin\uFE0F@example.com'],
    ['a zero-width joiner', 'ad\u200Dmin@example.com'],
  ])('%s looks like admin@example.com', (_label, email) => {
    expect(skeletonOf(email)).toBe(skeletonOf('admin@example.com'));
  });

  it.each([['admin1@example.com'], ['admln@example.com'], ['admin@example.org'], ['adrnim@example.com']])('%s does not', (email) => {
    expect(skeletonOf(email)).not.toBe(skeletonOf('admin@example.com'));
  });

  it('is a skeleton, not an address: not for display', () => {
    expect(skeletonOf('admin@example.com')).toBe('adrnin@exarnple.corn');
  });
});
