import type { CachedSession } from '../../ports/session-cache';

/**
 * Compact text form of a cached session, so one costs under 200 bytes of Redis memory:
 * `2|id|userId|roles|created|accessExp|expires|lastActivity|authenticated|version|ua|network`.
 * UUIDs are stored as 22 base64url characters (a user id that is not a UUID is stored as is,
 * behind `=`), times as whole seconds in base 36 — `created` absolute, the others as signed
 * offsets from it (expiries rounded down, so never later than the truth) — roles comma-separated. The leading `2` lets a future format coexist during a deploy.
 */
const SEP = '|';
const VERSION = '2';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function packId(id: string): string {
  return UUID.test(id) ? Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url') : `=${id}`;
}

function unpackId(packed: string): string {
  if (packed.startsWith('=')) return packed.slice(1);
  const hex = Buffer.from(packed, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function encodeCachedSession(s: CachedSession): string {
  for (const part of [s.id, s.userId, ...s.roles, s.uaFingerprint, s.network]) {
    if (part.includes(SEP) || part.includes(',')) {
      throw new Error(`Session id, user id, role names and binding data must not contain "${SEP}" or ","`);
    }
  }
  return [
    VERSION,
    packId(s.id),
    packId(s.userId),
    s.roles.join(','),
    seconds(s.createdAt).toString(36),
    ...[s.accessExpiresAt, s.expiresAt, s.lastActivityAt, s.authenticatedAt].map((ms) =>
      (seconds(ms) - seconds(s.createdAt)).toString(36),
    ),
    s.version.toString(36),
    s.uaFingerprint,
    s.network,
  ].join(SEP);
}

/** The session, or null for anything that is not this format (treated as a cache miss). */
export function decodeCachedSession(text: string): CachedSession | null {
  const f = text.split(SEP);
  if (f.length !== 12 || f[0] !== VERSION) return null;
  const created = parseInt(f[4], 36);
  const times = [5, 6, 7, 8].map((i) => (created + parseInt(f[i], 36)) * 1000);
  const version = parseInt(f[9], 36);
  if (Number.isNaN(created) || times.some(Number.isNaN) || Number.isNaN(version)) return null;
  return {
    id: unpackId(f[1]),
    userId: unpackId(f[2]),
    roles: f[3] ? f[3].split(',') : [],
    accessExpiresAt: times[0],
    expiresAt: times[1],
    lastActivityAt: times[2],
    authenticatedAt: times[3],
    createdAt: created * 1000,
    version,
    uaFingerprint: f[10],
    network: f[11],
  };
}
