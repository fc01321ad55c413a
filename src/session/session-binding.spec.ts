import { bindingBroken, networkOf, userAgentFamily, userAgentFingerprint } from './session-binding.js';

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const CHROME_MAC_NEWER = CHROME_MAC.replace('Chrome/120.0', 'Chrome/131.0');
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CURL = 'curl/8.5.0';

describe('userAgentFamily', () => {
  it('is browser/OS, the same across versions of one browser', () => {
    expect(userAgentFamily(CHROME_MAC)).toBe('Chrome/macOS');
    expect(userAgentFamily(CHROME_MAC_NEWER)).toBe(userAgentFamily(CHROME_MAC));
    expect(userAgentFamily(FIREFOX_LINUX)).toBe('Firefox/Linux');
  });

  it('is empty without a user agent and never contains the cache separators', () => {
    expect(userAgentFamily(undefined)).toBe('');
    expect(userAgentFamily('')).toBe('');
    expect(userAgentFamily('weird|agent,with separators')).not.toMatch(/[|,]/);
  });
});

describe('networkOf', () => {
  it('is the /24 of an IPv4 address, IPv4-mapped IPv6 included', () => {
    expect(networkOf('203.0.113.7')).toBe('203.0.113');
    expect(networkOf('::ffff:203.0.113.200')).toBe('203.0.113');
  });

  it('is the /48 of an IPv6 address, however it is written', () => {
    expect(networkOf('2001:db8:85a3::8a2e:370:7334')).toBe('2001:db8:85a3');
    expect(networkOf('2001:0db8:85a3:0000:0000:8a2e:0370:7334')).toBe('2001:db8:85a3');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0');
    expect(networkOf('::1')).toBe('0:0:0');
  });

  it('is empty without an address', () => {
    expect(networkOf(undefined)).toBe('');
  });
});

describe('bindingBroken', () => {
  const bound = { uaFingerprint: userAgentFingerprint(CHROME_MAC), network: '203.0.113' };

  it('ua: another browser or OS breaks it; a new version, another network do not', () => {
    expect(bindingBroken('ua', bound, { userAgent: CHROME_MAC_NEWER, ipAddress: '198.51.100.1' })).toBe(false);
    expect(bindingBroken('ua', bound, { userAgent: FIREFOX_LINUX })).toBe(true);
    expect(bindingBroken('ua', bound, { userAgent: CURL })).toBe(true);
    expect(bindingBroken('ua', bound, {})).toBe(true);
  });

  it('ip: another network breaks it; another address in the /24 or another browser do not', () => {
    expect(bindingBroken('ip', bound, { ipAddress: '203.0.113.99', userAgent: FIREFOX_LINUX })).toBe(false);
    expect(bindingBroken('ip', bound, { ipAddress: '203.0.114.1' })).toBe(true);
  });

  it('off: nothing breaks it', () => {
    expect(bindingBroken('off', bound, { ipAddress: '1.1.1.1', userAgent: CURL })).toBe(false);
  });
});
