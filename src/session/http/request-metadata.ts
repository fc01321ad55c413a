import { UAParser } from 'ua-parser-js';
import type { SessionMetadata } from '../ports/session-record.js';

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

/**
 * Where and on what a session is opened: IP, user agent, a device name and type taken from
 * `X-Device-Name` / `X-Device-Type`, the login body's `deviceName`, or the parsed user agent, and
 * a device id from the login body's `deviceId`, else `X-Device-Id`.
 */
export function requestMetadata(req: MetadataRequest, deviceName?: string, deviceId?: string): SessionMetadata {
  const userAgent = clip(req.headers['user-agent'], 512);
  const ua = userAgent ? UAParser(userAgent) : undefined;
  const parsedName = ua && [ua.browser.name, ua.os.name].filter(Boolean).join(' on ');
  const parsedType = ua ? (ua.device.type ?? (ua.browser.name ? 'desktop' : null)) : null;
  return {
    ipAddress: clip(req.ip, 64),
    userAgent,
    deviceName: clip(deviceName, 128) ?? clip(req.headers['x-device-name'], 128) ?? (parsedName || null),
    deviceType: clip(req.headers['x-device-type'], 32) ?? parsedType,
    deviceId: clip(deviceId, 128) ?? clip(req.headers['x-device-id'], 128),
  };
}
