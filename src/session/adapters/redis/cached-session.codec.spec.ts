import { decodeCachedSession, encodeCachedSession } from './cached-session.codec.js';
import type { CachedSession } from '../../ports/session-cache.js';

const created = Date.UTC(2030, 0, 1, 12, 0, 0, 987);
const session: CachedSession = {
  id: '5b0e6b8e-8a41-4c57-9f1f-0d6f2f1c9a11',
  userId: 'c2a1a9a4-3e1e-4c2b-8f5d-6a7b8c9d0e1f',
  roles: ['user', 'admin'],
  createdAt: created,
  authenticatedAt: created + 1_500,
  lastActivityAt: created + 4_321,
  accessExpiresAt: created + 900_999,
  expiresAt: created + 604_800_999,
  version: 7,
  uaFingerprint: 'abcdefgh',
  network: '192.0.2',
};

describe('cached session codec', () => {
  it('keeps last activity to the millisecond (idle expiry is judged from it)', () => {
    const decoded = decodeCachedSession(encodeCachedSession(session, 'e1'));
    expect(decoded?.session.lastActivityAt).toBe(session.lastActivityAt);
  });

  it('rounds expiries down to the second, never later than the truth', () => {
    const decoded = decodeCachedSession(encodeCachedSession(session, 'e1'))!.session;
    for (const field of ['accessExpiresAt', 'expiresAt', 'authenticatedAt', 'createdAt'] as const) {
      expect(decoded[field]).toBeLessThanOrEqual(session[field]);
      expect(session[field] - decoded[field]).toBeLessThan(1000);
    }
  });

  it('reads an entry of another format version as a miss (a rolling deploy never misreads one)', () => {
    const [, ...rest] = encodeCachedSession(session, 'e1').split('|');
    expect(decodeCachedSession(['3', ...rest].join('|'))).toBeNull();
    expect(decodeCachedSession('4|e1|too|few|fields')).toBeNull();
    const fields = encodeCachedSession(session, 'e1').split('|');
    fields[8] = '!';
    expect(decodeCachedSession(fields.join('|'))).toBeNull();
  });

  it('carries the cache epoch it was filled in', () => {
    expect(decodeCachedSession(encodeCachedSession(session, 'k2x9q0'))?.epoch).toBe('k2x9q0');
    expect(() => encodeCachedSession(session, 'Not:An|Epoch')).toThrow(/epoch/);
  });
});
