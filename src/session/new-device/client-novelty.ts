import type { ClientSighting } from '../ports/session-record.js';
import { networkOf, userAgentFamily } from '../session-binding.js';

/** What about a login's client was not seen in the user's recent sessions. */
export type Novelty = 'browser' | 'network' | 'device';

/** The client of a login, as the new-device check compares it. */
export interface LoginClient {
  ipAddress: string | null;
  userAgent: string | null;
  /** Compared only when the client gives one. */
  deviceId: string | null;
}

/**
 * What is new about `client` against `history` (the user's recent sessions): its browser and OS
 * family (`browser`; a new version of the same browser is not new), its network (/24 IPv4, /48
 * IPv6), its device id when it gives one. Empty when everything was seen, and when there is no
 * history at all (a first login has nothing to compare with: no alert).
 */
export function noveltyOf(client: LoginClient, history: readonly ClientSighting[]): Novelty[] {
  if (history.length === 0) return [];
  const novel: Novelty[] = [];
  const family = userAgentFamily(client.userAgent);
  if (!history.some((seen) => userAgentFamily(seen.userAgent) === family)) novel.push('browser');
  const network = networkOf(client.ipAddress);
  if (!history.some((seen) => networkOf(seen.ipAddress) === network)) novel.push('network');
  if (client.deviceId !== null && !history.some((seen) => seen.deviceId === client.deviceId)) novel.push('device');
  return novel;
}

/** A login's client in words, for the message a host sends the user. */
export interface ClientDescription {
  /** The browser's name (`Firefox`), null when the user agent does not say. */
  browser: string | null;
  /** The operating system's name (`Linux`), null when the user agent does not say. */
  os: string | null;
  /** The network the address is in (`203.0.113.0/24`, `2001:db8:1::/48`), null without an address. */
  network: string | null;
}

/** The browser, OS and network of a client, in words. */
export function describeClient(client: Pick<LoginClient, 'ipAddress' | 'userAgent'>): ClientDescription {
  const family = userAgentFamily(client.userAgent);
  const slash = family.indexOf('/');
  const browser = slash < 0 ? family : family.slice(0, slash);
  const os = slash < 0 ? '' : family.slice(slash + 1);
  return { browser: browser || null, os: os || null, network: networkInWords(client.ipAddress) };
}

/** `203.0.113.0/24` for an IPv4 address, `2001:db8:1::/48` for an IPv6 one. */
function networkInWords(ip: string | null): string | null {
  const network = networkOf(ip);
  if (!network) return null;
  if (/^\d+\.\d+\.\d+$/.test(network)) return `${network}.0/24`;
  if (network.includes(':')) return `${network}::/48`;
  return network;
}

/** `Firefox on Linux`, `Firefox`, `Linux`, `an unknown browser`. */
export function browserOnOs({ browser, os }: ClientDescription): string {
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? 'an unknown browser';
}
