import { LRUCache } from 'lru-cache';
import { UAParser } from 'ua-parser-js';
import type { SessionMetadata } from '../ports/session-record.js';
import type { ClientContext } from '../session-binding.js';

/** What metadata is read from: the client IP (as the app's trust-proxy setting gives it) and the headers. */
export interface MetadataRequest {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

const clip = (value: unknown, max: number): string | null => {
  if (typeof value !== 'string') return null;
  // Control characters (C0 and C1), line separators and bidi overrides have no place in a device
  // label or a user agent we show to admins, log, or put in a new-sign-in message to the user.
  const clean = value.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, '').trim();
  return clean ? clean.slice(0, max) : null;
};

/** A user agent's device label and type, as parsed; the same few user agents come back again and again. */
const parsedDevices = new LRUCache<string, { name: string | null; type: string | null }>({ max: 2000 });

function parsedDevice(userAgent: string): { name: string | null; type: string | null } {
  let device = parsedDevices.get(userAgent);
  if (device === undefined) {
    const ua = UAParser(userAgent);
    const name = [ua.browser.name, ua.os.name].filter(Boolean).join(' on ');
    device = { name: name || null, type: ua.device.type ?? (ua.browser.name ? 'desktop' : null) };
    parsedDevices.set(userAgent, device);
  }
  return device;
}

/** Who sends the request, as far as a session's binding needs it: its IP and user agent (nothing parsed). */
export function requestClient(req: MetadataRequest): ClientContext {
  return { ipAddress: clip(req.ip, 64), userAgent: clip(req.headers['user-agent'], 512) };
}

/**
 * Where and on what a session is opened: IP, user agent, a device name and type taken from
 * `X-Device-Name` / `X-Device-Type`, the login body's `deviceName`, or the parsed user agent, and
 * a device id from the login body's `deviceId`, else `X-Device-Id`.
 */
export function requestMetadata(req: MetadataRequest, deviceName?: string, deviceId?: string): SessionMetadata {
  const { ipAddress, userAgent } = requestClient(req);
  const parsed = userAgent ? parsedDevice(userAgent) : undefined;
  return {
    ipAddress: ipAddress ?? null,
    userAgent: userAgent ?? null,
    deviceName: clip(deviceName, 128) ?? clip(req.headers['x-device-name'], 128) ?? parsed?.name ?? null,
    deviceType: clip(req.headers['x-device-type'], 32) ?? parsed?.type ?? null,
    deviceId: clip(deviceId, 128) ?? clip(req.headers['x-device-id'], 128),
  };
}
