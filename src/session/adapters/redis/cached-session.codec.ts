import type { CachedSession } from '../../ports/session-cache.js';

/**
 * Compact text form of a cached session, so one costs under 200 bytes of Redis memory:
 * `4|epoch|id|userId|roles|created|accessExp|expires|lastActivity|authenticated|version|ua|network`.
 * `epoch` is the cache epoch the entry was filled in (see `Watermark`): an entry of another
 * epoch reads as a miss.
 * UUIDs are stored as 22 base64url characters (a user id that is not a UUID is stored as is,
 * behind `=`), times in base 36 — `created` in whole seconds, the others as signed offsets from
 * it — roles comma-separated. Expiries and the time of authentication are whole seconds rounded
 * down (never later than the truth); last activity keeps its milliseconds, since idle expiry is
 * judged from it and a second either way would end a short-idle session early or late. The
 * leading version lets a future format coexist during a deploy: an entry of another version
 * reads as a miss.
 */
const SEP = '|';
const VERSION = '4';
const FIELDS = 13;
const EPOCH = /^[0-9a-z]{1,16}$/;
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

/** A cached session and the cache epoch it was filled in. */
export interface EncodedEntry {
  session: CachedSession;
  epoch: string;
}

export function encodeCachedSession(s: CachedSession, epoch: string): string {
  if (!EPOCH.test(epoch)) throw new Error(`A cache epoch is 1 to 16 characters of [0-9a-z], not "${epoch}"`);
  for (const part of [s.id, s.userId, ...s.roles, s.uaFingerprint, s.network]) {
    if (part.includes(SEP) || part.includes(',')) {
      throw new Error(`Session id, user id, role names and binding data must not contain "${SEP}" or ","`);
    }
  }
  return [
    VERSION,
    epoch,
    packId(s.id),
    packId(s.userId),
    s.roles.join(','),
    seconds(s.createdAt).toString(36),
    (seconds(s.accessExpiresAt) - seconds(s.createdAt)).toString(36),
    (seconds(s.expiresAt) - seconds(s.createdAt)).toString(36),
    (s.lastActivityAt - seconds(s.createdAt) * 1000).toString(36),
    (seconds(s.authenticatedAt) - seconds(s.createdAt)).toString(36),
    s.version.toString(36),
    s.uaFingerprint,
    s.network,
  ].join(SEP);
}

/** The session and its epoch, or null for anything that is not this format (treated as a cache miss). */
export function decodeCachedSession(text: string): EncodedEntry | null {
  const [format, epoch, ...f] = text.split(SEP);
  if (format !== VERSION || f.length !== FIELDS - 2 || !EPOCH.test(epoch ?? '')) return null;
  const created = parseInt(f[3], 36);
  const times = [4, 5, 7].map((i) => (created + parseInt(f[i], 36)) * 1000);
  const lastActivityAt = created * 1000 + parseInt(f[6], 36);
  const version = parseInt(f[8], 36);
  if ([created, ...times, lastActivityAt, version].some(Number.isNaN)) return null;
  const session: CachedSession = {
    id: unpackId(f[0]),
    userId: unpackId(f[1]),
    roles: f[2] ? f[2].split(',') : [],
    accessExpiresAt: times[0],
    expiresAt: times[1],
    lastActivityAt,
    authenticatedAt: times[2],
    createdAt: created * 1000,
    version,
    uaFingerprint: f[9],
    network: f[10],
  };
  return { session, epoch };
}
