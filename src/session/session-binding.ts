import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import { UAParser } from 'ua-parser-js';

/**
 * What ties a session to the client that opened it:
 * - `ua`: the browser and OS family (a new version of the same browser is the same family);
 * - `ip`: the network (/24 for IPv4, /48 for IPv6);
 * - `off`: nothing.
 */
export type SessionBinding = 'off' | 'ua' | 'ip';

const families = new LRUCache<string, string>({ max: 2000 });
const fingerprints = new LRUCache<string, string>({ max: 2000 });

/**
 * A short fingerprint (8 base64url characters) of the browser/OS family of a user agent, `''`
 * without one: what a cached session keeps for `ua` binding. Memoized, as it runs per request.
 */
export function userAgentFingerprint(userAgent: string | null | undefined): string {
  if (!userAgent) return '';
  let fingerprint = fingerprints.get(userAgent);
  if (fingerprint === undefined) {
    fingerprint = createHash('sha256').update(userAgentFamily(userAgent)).digest('base64url').slice(0, 8);
    fingerprints.set(userAgent, fingerprint);
  }
  return fingerprint;
}

/** `Browser/OS` of a user agent (`''` when there is none); memoized, as it runs per request. */
export function userAgentFamily(userAgent: string | null | undefined): string {
  if (!userAgent) return '';
  let family = families.get(userAgent);
  if (family === undefined) {
    const ua = UAParser(userAgent);
    family = `${ua.browser.name ?? ''}/${ua.os.name ?? ''}`.replace(/[|,]/g, '');
    families.set(userAgent, family);
  }
  return family;
}

/** The /24 (IPv4) or /48 (IPv6) an address is in; IPv4-mapped IPv6 counts as IPv4. */
export function networkOf(ip: string | null | undefined): string {
  if (!ip) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const address = mapped ? mapped[1] : ip;
  if (isIPv4(address)) return address.split('.').slice(0, 3).join('.');
  if (isIPv6(address)) return expandIPv6(address).slice(0, 3).join(':');
  return address;
}

function expandIPv6(address: string): string[] {
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const missing = address.includes('::') ? 8 - left.length - right.length : 0;
  return [...left, ...Array(missing).fill('0'), ...right].map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''));
}

/** The client of one request, as far as binding needs it. */
export interface ClientContext {
  ipAddress?: string | null;
  userAgent?: string | null;
}

/** True when `client` is not the client the session is bound to. */
export function bindingBroken(
  binding: SessionBinding,
  bound: { uaFingerprint: string; network: string },
  client: ClientContext,
): boolean {
  if (binding === 'ua') return userAgentFingerprint(client.userAgent) !== bound.uaFingerprint;
  if (binding === 'ip') return networkOf(client.ipAddress) !== bound.network;
  return false;
}
