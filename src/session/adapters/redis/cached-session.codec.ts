import type { CachedSession } from '../../ports/session-cache';

/**
 * Compact text form of a cached session: fields joined by `|`, times in epoch milliseconds in
 * base 36. Ids and roles never contain `|` (uuid / role names are checked at encode time).
 */
const SEP = '|';

export function encodeCachedSession(s: CachedSession): string {
  for (const part of [s.id, s.userId, ...s.roles, s.uaFamily, s.network]) {
    if (part.includes(SEP) || part.includes(',')) {
      throw new Error(`Session id, user id and role names must not contain "${SEP}" or ","`);
    }
  }
  return [
    s.id,
    s.userId,
    s.roles.join(','),
    s.accessExpiresAt.toString(36),
    s.expiresAt.toString(36),
    s.lastActivityAt.toString(36),
    s.authenticatedAt.toString(36),
    s.createdAt.toString(36),
    s.version.toString(36),
    s.uaFamily,
    s.network,
  ].join(SEP);
}

export function decodeCachedSession(text: string): CachedSession | null {
  const f = text.split(SEP);
  if (f.length !== 11) return null;
  const n = (i: number) => parseInt(f[i], 36);
  const session: CachedSession = {
    id: f[0],
    userId: f[1],
    roles: f[2] ? f[2].split(',') : [],
    accessExpiresAt: n(3),
    expiresAt: n(4),
    lastActivityAt: n(5),
    authenticatedAt: n(6),
    createdAt: n(7),
    version: n(8),
    uaFamily: f[9],
    network: f[10],
  };
  return [3, 4, 5, 6, 7, 8].some((i) => Number.isNaN(n(i))) ? null : session;
}
