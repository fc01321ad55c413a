import { randomBytes, randomUUID } from 'node:crypto';
import type {
  LiveWindow,
  NewSessionRecord,
  RotationTarget,
  SessionRecord,
} from '../ports/session-record.js';
import type { SessionStore } from '../ports/session-store.js';

/** What a store adapter hands the contract: the store, a way to empty it, a way to close it. */
export interface SessionStoreHarness {
  /** Read again after every `reset()`: an adapter may swap the instance. */
  readonly store: SessionStore;
  /** Removes every session. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Every time in the contract is an offset, in seconds, from this fixed instant. */
const BASE_MS = Date.UTC(2030, 0, 1, 0, 0, 0, 0);
export const at = (seconds: number): Date => new Date(BASE_MS + seconds * 1000);

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The idle timeout the windows below use. */
const IDLE = HOUR;

/** The live window at `seconds`: a session last active at or before `seconds - IDLE` is idle. */
const windowAt = (seconds: number): LiveWindow => ({ now: at(seconds), activeSince: at(seconds - IDLE) });

/** A token hash shaped like the real ones (SHA-256, base64url, 43 characters). */
const tokenHash = (): string => randomBytes(32).toString('base64url');

/** A new session opened at `at(0)`, refresh for 30 days, absolute end at 90 days. */
function newSession(overrides: Partial<NewSessionRecord> = {}): NewSessionRecord {
  return {
    id: randomUUID(),
    userId: 'user-1',
    roles: ['user'],
    accessHash: tokenHash(),
    refreshHash: tokenHash(),
    accessExpiresAt: at(15 * MINUTE),
    expiresAt: at(30 * DAY),
    absoluteExpiresAt: at(90 * DAY),
    createdAt: at(0),
    authenticatedAt: at(0),
    lastActivityAt: at(0),
    ipAddress: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Contract/1.0',
    deviceName: 'Firefox on Linux',
    deviceType: 'desktop',
    // Its own device id: sessions on one device id replace each other (see 'one live session per device id').
    deviceId: `device-${randomUUID()}`,
    data: { theme: 'dark', nested: { n: 1, list: [1, 'two', null] } },
    ...overrides,
  };
}

/** New tokens for a rotation at `at(seconds)`: 15 min access, 30 days refresh. */
function rotationTarget(seconds: number, overrides: Partial<RotationTarget> = {}): RotationTarget {
  return {
    accessHash: tokenHash(),
    refreshHash: tokenHash(),
    accessExpiresAt: at(seconds + 15 * MINUTE),
    expiresAt: at(seconds + 30 * DAY),
    rotationSecret: randomBytes(32).toString('base64url'),
    ...overrides,
  };
}

const ids = (sessions: readonly SessionRecord[]): string[] => sessions.map((s) => s.id);
const sortedIds = (sessions: readonly SessionRecord[]): string[] => ids(sessions).sort();

/**
 * The behaviour every `SessionStore` adapter must have (see `src/session/ports/session-store.ts`).
 * The store is given explicit times (`LiveWindow`), so every case uses fixed dates.
 */
export function sessionStoreContract(
  name: string,
  factory: () => Promise<SessionStoreHarness>,
): void {
  describe(`SessionStore contract: ${name}`, () => {
    let harness: SessionStoreHarness | undefined;
    let store: SessionStore;

    beforeAll(async () => {
      harness = await factory();
    });

    afterAll(async () => {
      await harness?.close();
    });

    beforeEach(async () => {
      if (!harness) throw new Error(`${name}: the harness did not start`);
      await harness.reset();
      store = harness.store;
    });

    /** Inserts sessions and returns them as stored. */
    const insert = (...sessions: NewSessionRecord[]): Promise<SessionRecord[]> =>
      Promise.all(sessions.map((s) => store.insert(s).then((inserted) => inserted.session)));

    /** Inserts one session and ends it by revocation at `at(seconds)`. */
    async function insertRevoked(seconds: number, overrides: Partial<NewSessionRecord> = {}) {
      const [session] = await insert(newSession(overrides));
      const ended = await store.revoke({ id: session.id }, 'logout', windowAt(seconds));
      expect(ended).toHaveLength(1);
      return ended[0];
    }

    describe('insert and find', () => {
      it('insert returns the session as stored: not rotated, not revoked, version 1', async () => {
        const input = newSession({ roles: ['user', 'admin'] });
        const stored = (await store.insert(input)).session;
        expect(stored).toEqual({
          ...input,
          previousRefreshHash: null,
          previousAccessHash: null,
          rotatedAt: null,
          rotationSecret: null,
          revokedAt: null,
          revokedReason: null,
          endedAt: null,
          version: 1,
        });
        expect(stored.createdAt).toBeInstanceOf(Date);
      });

      it('findById and findByAccessHash return the stored session; null when unknown', async () => {
        const [stored] = await insert(newSession());
        expect(await store.findById(stored.id)).toEqual(stored);
        expect(await store.findByAccessHash(stored.accessHash)).toEqual(stored);
        expect(await store.findById(randomUUID())).toBeNull();
        expect(await store.findByAccessHash(tokenHash())).toBeNull();
        // A refresh hash is not an access hash.
        expect(await store.findByAccessHash(stored.refreshHash)).toBeNull();
      });

      it('keeps null metadata, empty roles and no data', async () => {
        const input = newSession({
          roles: [],
          ipAddress: null,
          userAgent: null,
          deviceName: null,
          deviceType: null,
          deviceId: null,
          data: null,
        });
        const stored = (await store.insert(input)).session;
        expect(stored.roles).toEqual([]);
        expect(await store.findById(input.id)).toMatchObject({
          roles: [],
          ipAddress: null,
          userAgent: null,
          deviceName: null,
          deviceType: null,
          deviceId: null,
          data: null,
        });
      });

      it('keeps role names and data exactly (spaces, quotes, commas, unicode)', async () => {
        const roles = ['user', 'super admin', 'a,b', 'quote"d', 'ünï'];
        const data = { 'key with space': 'välue', quote: '"\\', list: [true, 1.5, { deep: null }] };
        const [stored] = await insert(newSession({ roles, data }));
        const found = await store.findById(stored.id);
        expect(found?.roles).toEqual(roles);
        expect(found?.data).toEqual(data);
      });

      it('finds ended sessions too (find* does not filter on liveness)', async () => {
        const revoked = await insertRevoked(10);
        const [expired] = await insert(newSession({ expiresAt: at(5) }));
        expect(await store.findById(revoked.id)).toMatchObject({ revokedAt: at(10), revokedReason: 'logout' });
        expect(await store.findByAccessHash(revoked.accessHash)).toMatchObject({ id: revoked.id });
        expect(await store.findById(expired.id)).toEqual(expired);
      });

      it('findByRotatedRefreshHash finds a session only by a refresh hash it rotated away', async () => {
        const [stored] = await insert(newSession());
        expect(await store.findByRotatedRefreshHash(stored.refreshHash)).toBeNull();
        const target = rotationTarget(60);
        await store.rotate(stored.refreshHash, target, windowAt(60));
        expect(await store.findByRotatedRefreshHash(stored.refreshHash)).toMatchObject({
          id: stored.id,
          refreshHash: target.refreshHash,
          previousRefreshHash: stored.refreshHash,
          previousAccessHash: stored.accessHash,
        });
        expect(await store.findByRotatedRefreshHash(target.refreshHash)).toBeNull();
        expect(await store.findByRotatedRefreshHash(tokenHash())).toBeNull();
      });

      it('hands out copies: changing a returned record or the inserted input does not change the store', async () => {
        const input = newSession({ roles: ['user'], data: { plan: 'free' } });
        const stored = (await store.insert(input)).session;
        input.roles.push('admin-from-input');
        (input.data as Record<string, unknown>).plan = 'changed-input';
        stored.roles.push('admin-from-result');
        stored.expiresAt = at(999 * DAY);
        const found = await store.findById(input.id);
        found!.roles.push('admin-from-find');
        expect(await store.findById(input.id)).toMatchObject({
          roles: ['user'],
          data: { plan: 'free' },
          expiresAt: at(30 * DAY),
        });
      });
    });

    describe('one live session per device id', () => {
      const open = (sessions: readonly SessionRecord[]) => sessions.filter((s) => s.revokedAt === null && s.endedAt === null);

      it("insert ends the user's open sessions on the same device id (replaced, at the new session's creation) and returns them", async () => {
        const [older] = await insert(newSession({ deviceId: 'phone' }));
        const [otherDevice] = await insert(newSession({ deviceId: 'laptop' }));
        const [otherUser] = await insert(newSession({ userId: 'user-2', deviceId: 'phone' }));
        const [noDevice] = await insert(newSession({ deviceId: null }));
        const newer = newSession({ deviceId: 'phone', createdAt: at(60), authenticatedAt: at(60), lastActivityAt: at(60) });
        const insertion = await store.insert(newer);
        expect(insertion.session).toMatchObject({ id: newer.id, deviceId: 'phone', revokedAt: null });
        expect(insertion.replaced).toEqual([
          { ...older, revokedAt: at(60), revokedReason: 'replaced', endedAt: at(60), version: insertion.replaced[0].version },
        ]);
        expect(insertion.replaced[0].version).toBeGreaterThan(older.version);
        expect(await store.findById(older.id)).toMatchObject({ revokedReason: 'replaced', endedAt: at(60) });
        for (const kept of [otherDevice, otherUser, noDevice]) expect(await store.findById(kept.id)).toEqual(kept);
        expect(sortedIds(await store.listLive('user-1', windowAt(60)))).toEqual(sortedIds([otherDevice, noDevice, insertion.session]));
      });

      it('without a device id, insert replaces nothing; ended sessions are not ended again; one whose time ran out unrecorded is', async () => {
        const [a] = await insert(newSession({ deviceId: null }));
        expect((await store.insert(newSession({ deviceId: null }))).replaced).toEqual([]);
        expect(await store.findById(a.id)).toEqual(a);
        const revoked = await insertRevoked(10, { deviceId: 'tablet' });
        const [timedOut] = await insert(newSession({ deviceId: 'tablet', expiresAt: at(20) }));
        const insertion = await store.insert(newSession({ deviceId: 'tablet', createdAt: at(60) }));
        expect(ids(insertion.replaced)).toEqual([timedOut.id]);
        expect(await store.findById(revoked.id)).toEqual(revoked);
      });

      it('concurrent logins with one device id leave exactly one open session; each of the others is returned as replaced once', async () => {
        for (let round = 0; round < 10; round++) {
          const userId = `device-racer-${round}`;
          const insertions = await Promise.all(
            [1, 2, 3, 4, 5].map((t) => store.insert(newSession({ userId, deviceId: 'shared', createdAt: at(t), lastActivityAt: at(t) }))),
          );
          const all = await Promise.all(insertions.map((i) => store.findById(i.session.id)));
          expect(open(all as SessionRecord[])).toHaveLength(1);
          const replaced = insertions.flatMap((i) => ids(i.replaced)).sort();
          expect(replaced).toEqual(insertions.map((i) => i.session.id).filter((id) => id !== open(all as SessionRecord[])[0].id).sort());
        }
      });
    });

    describe('rotate', () => {
      it('replaces the tokens once and returns the access hash it replaced', async () => {
        const [before] = await insert(newSession());
        const target = rotationTarget(10 * MINUTE);
        const rotation = await store.rotate(before.refreshHash, target, windowAt(10 * MINUTE));
        expect(rotation).not.toBeNull();
        const expected: SessionRecord = {
          ...before,
          accessHash: target.accessHash,
          refreshHash: target.refreshHash,
          previousRefreshHash: before.refreshHash,
          previousAccessHash: before.accessHash,
          rotatedAt: at(10 * MINUTE),
          rotationSecret: target.rotationSecret,
          accessExpiresAt: target.accessExpiresAt,
          expiresAt: target.expiresAt,
          lastActivityAt: at(10 * MINUTE),
          version: before.version + 1,
        };
        expect(rotation!.replacedAccessHash).toBe(before.accessHash);
        expect(rotation!.session).toEqual(expected);
        expect(rotation!.session.version).toBeGreaterThan(before.version);
        // Refresh does not re-authenticate, nor re-create.
        expect(rotation!.session.authenticatedAt).toEqual(before.authenticatedAt);
        expect(rotation!.session.createdAt).toEqual(before.createdAt);
        expect(await store.findById(before.id)).toEqual(expected);
      });

      it('the old tokens stop working; the new refresh hash rotates again', async () => {
        const [before] = await insert(newSession());
        const first = rotationTarget(60);
        const r1 = await store.rotate(before.refreshHash, first, windowAt(60));
        expect(r1).not.toBeNull();

        expect(await store.rotate(before.refreshHash, rotationTarget(120), windowAt(120))).toBeNull();
        expect(await store.findByAccessHash(before.accessHash)).toBeNull();
        expect(await store.findByAccessHash(first.accessHash)).toMatchObject({ id: before.id });

        const second = rotationTarget(180);
        const r2 = await store.rotate(first.refreshHash, second, windowAt(180));
        expect(r2).not.toBeNull();
        expect(r2!.replacedAccessHash).toBe(first.accessHash);
        expect(r2!.session).toMatchObject({
          refreshHash: second.refreshHash,
          previousRefreshHash: first.refreshHash,
          rotatedAt: at(180),
          // Only the last rotation's secret is kept: the earlier ones are gone.
          rotationSecret: second.rotationSecret,
        });
        expect(r2!.session.version).toBeGreaterThan(r1!.session.version);
        // Every rotated-away hash is remembered, not only the most recent.
        expect(await store.findByRotatedRefreshHash(before.refreshHash)).toMatchObject({ id: before.id });
        expect(await store.findByRotatedRefreshHash(first.refreshHash)).toMatchObject({ id: before.id });
        expect(await store.findByRotatedRefreshHash(second.refreshHash)).toBeNull();
      });

      it('caps the new end at the absolute expiry', async () => {
        const [before] = await insert(
          newSession({ lastActivityAt: at(DAY - 60), expiresAt: at(2 * DAY), absoluteExpiresAt: at(3 * DAY) }),
        );
        const rotation = await store.rotate(
          before.refreshHash,
          rotationTarget(DAY, { expiresAt: at(31 * DAY) }),
          windowAt(DAY),
        );
        expect(rotation!.session.expiresAt).toEqual(at(3 * DAY));
        expect(rotation!.session.absoluteExpiresAt).toEqual(at(3 * DAY));
        expect((await store.findById(before.id))!.expiresAt).toEqual(at(3 * DAY));
      });

      it('does not move last activity backward', async () => {
        const [before] = await insert(newSession({ lastActivityAt: at(500) }));
        const rotation = await store.rotate(before.refreshHash, rotationTarget(400), windowAt(400));
        expect(rotation!.session.lastActivityAt).toEqual(at(500));
      });

      it.each([
        // Revoked at 30 s, rotated at 60 s.
        ['revoked', {}, 'revoke'],
        // Expired: the end is not after `now`.
        ['expired', { expiresAt: at(60) }, 'none'],
        // Idle: last activity is exactly `activeSince` (now - IDLE), so not after it.
        ['idle', { lastActivityAt: at(60 - IDLE) }, 'none'],
      ] as const)('refuses a %s session and leaves it unchanged', async (_kind, overrides, action) => {
        const [session] = await insert(newSession(overrides));
        if (action === 'revoke') await store.revoke({ id: session.id }, 'logout', windowAt(30));
        const before = await store.findById(session.id);
        expect(await store.rotate(session.refreshHash, rotationTarget(60), windowAt(60))).toBeNull();
        expect(await store.findById(session.id)).toEqual(before);
        expect(await store.findByRotatedRefreshHash(session.refreshHash)).toBeNull();
      });

      it('returns null for an unknown refresh hash', async () => {
        await insert(newSession());
        expect(await store.rotate(tokenHash(), rotationTarget(60), windowAt(60))).toBeNull();
      });

      it('of concurrent rotations of one refresh hash, exactly one succeeds', async () => {
        const [before] = await insert(newSession());
        const targets = Array.from({ length: 5 }, () => rotationTarget(60));
        const results = await Promise.all(
          targets.map((t) => store.rotate(before.refreshHash, t, windowAt(60))),
        );
        const winners = results.flatMap((r, i) => (r ? [{ r, target: targets[i] }] : []));
        expect(winners).toHaveLength(1);
        const [{ r, target }] = winners;
        expect(r.replacedAccessHash).toBe(before.accessHash);
        expect(await store.findById(before.id)).toMatchObject({
          accessHash: target.accessHash,
          refreshHash: target.refreshHash,
          previousRefreshHash: before.refreshHash,
          rotationSecret: target.rotationSecret,
          version: before.version + 1,
        });
        // The losers' rotations are what a retry finds: the winner's secret.
        expect(await store.findByRotatedRefreshHash(before.refreshHash)).toMatchObject({ rotationSecret: target.rotationSecret });
      });
    });

    describe('touch', () => {
      it('moves last activity forward only', async () => {
        const [s] = await insert(newSession({ lastActivityAt: at(100) }));
        await store.touch(s.id, at(200));
        expect((await store.findById(s.id))!.lastActivityAt).toEqual(at(200));
        await store.touch(s.id, at(150));
        expect((await store.findById(s.id))!.lastActivityAt).toEqual(at(200));
        await store.touch(s.id, at(200));
        expect((await store.findById(s.id))!.lastActivityAt).toEqual(at(200));
      });

      it('changes nothing else', async () => {
        const [s] = await insert(newSession());
        await store.touch(s.id, at(300));
        expect(await store.findById(s.id)).toEqual({ ...s, lastActivityAt: at(300) });
      });

      it('leaves a revoked session alone and ignores an unknown id', async () => {
        const revoked = await insertRevoked(10);
        await store.touch(revoked.id, at(500));
        expect(await store.findById(revoked.id)).toEqual(revoked);
        await expect(store.touch(randomUUID(), at(500))).resolves.toBeUndefined();
      });
    });

    describe('extend', () => {
      it('moves the end forward and returns the session after the change', async () => {
        const [s] = await insert(newSession({ expiresAt: at(DAY) }));
        const extended = await store.extend(s.id, at(5 * DAY), windowAt(60));
        expect(extended).toEqual({ ...s, expiresAt: at(5 * DAY), version: extended!.version });
        expect(extended!.version).toBeGreaterThan(s.version);
        expect(await store.findById(s.id)).toEqual(extended);
      });

      it('never moves the end backward', async () => {
        const [s] = await insert(newSession({ expiresAt: at(10 * DAY) }));
        const extended = await store.extend(s.id, at(2 * DAY), windowAt(60));
        expect(extended!.expiresAt).toEqual(at(10 * DAY));
        expect((await store.findById(s.id))!.expiresAt).toEqual(at(10 * DAY));
      });

      it('never moves the end past the absolute expiry', async () => {
        const [s] = await insert(newSession({ expiresAt: at(DAY), absoluteExpiresAt: at(3 * DAY) }));
        const extended = await store.extend(s.id, at(100 * DAY), windowAt(60));
        expect(extended!.expiresAt).toEqual(at(3 * DAY));
        expect((await store.findById(s.id))!.expiresAt).toEqual(at(3 * DAY));
      });

      it('returns null and changes nothing when the session is not live', async () => {
        const revoked = await insertRevoked(10);
        const [expired] = await insert(newSession({ expiresAt: at(60) }));
        const [idle] = await insert(newSession({ lastActivityAt: at(60 - IDLE) }));
        expect(await store.extend(revoked.id, at(5 * DAY), windowAt(60))).toBeNull();
        expect(await store.extend(expired.id, at(5 * DAY), windowAt(60))).toBeNull();
        expect(await store.extend(idle.id, at(5 * DAY), windowAt(60))).toBeNull();
        expect(await store.extend(randomUUID(), at(5 * DAY), windowAt(60))).toBeNull();
        expect(await store.findById(revoked.id)).toEqual(revoked);
        expect(await store.findById(expired.id)).toEqual(expired);
        expect(await store.findById(idle.id)).toEqual(idle);
      });
    });

    describe('changeLive (live role changes)', () => {
      it("writes the roles to every live session of the user, moves each version forward, and returns them after the change", async () => {
        const [a, b, other] = await insert(newSession(), newSession(), newSession({ userId: 'user-2' }));
        const changed = await store.changeLive('user-1', { roles: ['admin', 'user'] }, windowAt(60));
        expect(ids(changed).sort()).toEqual([a.id, b.id].sort());
        for (const s of changed) {
          const before = s.id === a.id ? a : b;
          expect(s).toEqual({ ...before, roles: ['admin', 'user'], version: s.version });
          expect(s.version).toBeGreaterThan(before.version);
          expect(await store.findById(s.id)).toEqual(s);
        }
        expect(await store.findById(other.id)).toEqual(other);
      });

      it('writes data (null clears it) and leaves out what the change leaves out', async () => {
        const [a] = await insert(newSession());
        const [withData] = await store.changeLive(a.userId, { data: { plan: 'pro', n: [1, 2] } }, windowAt(60));
        expect(withData).toEqual({ ...a, data: { plan: 'pro', n: [1, 2] }, version: withData.version });
        const [cleared] = await store.changeLive(a.userId, { data: null, roles: [] }, windowAt(60));
        expect(cleared).toEqual({ ...a, roles: [], data: null, version: cleared.version });
        expect(cleared.version).toBeGreaterThan(withData.version);
      });

      it('changes no session that is not live: revoked, expired or idle', async () => {
        const revoked = await insertRevoked(10);
        const [expired] = await insert(newSession({ expiresAt: at(60) }));
        const [idle] = await insert(newSession({ lastActivityAt: at(60 - IDLE) }));
        expect(await store.changeLive('user-1', { roles: ['admin'] }, windowAt(60))).toEqual([]);
        expect(await store.findById(revoked.id)).toEqual(revoked);
        expect(await store.findById(expired.id)).toEqual(expired);
        expect(await store.findById(idle.id)).toEqual(idle);
      });

      it('racing a rotation, returns the session with the access hash that is current, and the change stays', async () => {
        for (let round = 0; round < 10; round++) {
          const [s] = await insert(newSession({ userId: `changer-${round}` }));
          const target = rotationTarget(60);
          const [rotation, changed] = await Promise.all([
            store.rotate(s.refreshHash, target, windowAt(60)),
            store.changeLive(s.userId, { roles: ['demoted'] }, windowAt(60)),
          ]);
          expect(changed).toHaveLength(1);
          const now = (await store.findById(s.id))!;
          expect(now.roles).toEqual(['demoted']);
          expect(now.accessHash).toBe(rotation ? target.accessHash : s.accessHash);
          if (changed[0].accessHash === now.accessHash) expect(changed[0]).toEqual(now);
        }
      });
    });

    describe('revoke', () => {
      it('by id: ends that session and returns it as ended', async () => {
        const [a, b] = await insert(newSession(), newSession());
        const ended = await store.revoke({ id: a.id }, 'logout', windowAt(60));
        expect(ended).toHaveLength(1);
        expect(ended[0]).toEqual({
          ...a,
          revokedAt: at(60),
          revokedReason: 'logout',
          endedAt: at(60),
          version: ended[0].version,
        });
        expect(ended[0].version).toBeGreaterThan(a.version);
        expect(await store.findById(a.id)).toEqual(ended[0]);
        expect(await store.findById(b.id)).toEqual(b);
      });

      it("by a current token hash and user: ends only that user's session holding it now", async () => {
        const [a, b] = await insert(newSession(), newSession());
        expect(await store.revoke({ userId: 'user-2', accessHash: a.accessHash }, 'replaced', windowAt(60))).toEqual([]);
        expect(await store.revoke({ userId: a.userId, accessHash: b.refreshHash }, 'replaced', windowAt(60))).toEqual([]);
        expect(ids(await store.revoke({ userId: a.userId, accessHash: a.accessHash }, 'replaced', windowAt(60)))).toEqual([a.id]);
        const target = rotationTarget(60);
        await store.rotate(b.refreshHash, target, windowAt(60));
        // A rotated-away refresh hash is no longer the session's.
        expect(await store.revoke({ userId: b.userId, refreshHash: b.refreshHash }, 'replaced', windowAt(70))).toEqual([]);
        const [ended] = await store.revoke({ userId: b.userId, refreshHash: target.refreshHash }, 'replaced', windowAt(70));
        expect(ended).toMatchObject({ id: b.id, revokedReason: 'replaced', revokedAt: at(70) });
      });

      it('does not revoke again: a second revocation returns nothing and keeps the first reason and time', async () => {
        const [a] = await insert(newSession());
        const [first] = await store.revoke({ id: a.id }, 'logout', windowAt(60));
        expect(await store.revoke({ id: a.id }, 'revoked_by_admin', windowAt(120))).toEqual([]);
        expect(await store.revoke({ userId: a.userId }, 'revoked_all', windowAt(120))).toEqual([]);
        expect(await store.findById(a.id)).toEqual(first);
        expect(first).toMatchObject({ revokedAt: at(60), revokedReason: 'logout' });
      });

      it('by userId: ends every live session of that user and only those', async () => {
        const [a1, a2] = await insert(newSession({ userId: 'alice' }), newSession({ userId: 'alice' }));
        const [b1] = await insert(newSession({ userId: 'bob' }));
        const aRevoked = await insertRevoked(10, { userId: 'alice' });
        const [aExpired] = await insert(newSession({ userId: 'alice', expiresAt: at(30) }));
        const [aIdle] = await insert(newSession({ userId: 'alice', lastActivityAt: at(60 - IDLE) }));

        const ended = await store.revoke({ userId: 'alice' }, 'revoked_all', windowAt(60));
        expect(sortedIds(ended)).toEqual([a1.id, a2.id].sort());
        for (const s of ended) expect(s).toMatchObject({ revokedAt: at(60), revokedReason: 'revoked_all' });

        expect(await store.findById(b1.id)).toEqual(b1);
        expect(await store.findById(aRevoked.id)).toEqual(aRevoked);
        expect(await store.findById(aExpired.id)).toEqual(aExpired);
        expect(await store.findById(aIdle.id)).toEqual(aIdle);
      });

      it('with exceptId: ends every other live session of the user', async () => {
        const [keep, other1, other2] = await insert(
          newSession({ userId: 'alice' }),
          newSession({ userId: 'alice' }),
          newSession({ userId: 'alice' }),
        );
        const [bob] = await insert(newSession({ userId: 'bob' }));
        const ended = await store.revoke({ userId: 'alice', exceptId: keep.id }, 'revoked_all', windowAt(60));
        expect(sortedIds(ended)).toEqual([other1.id, other2.id].sort());
        expect(await store.findById(keep.id)).toEqual(keep);
        expect(await store.findById(bob.id)).toEqual(bob);
        expect(await store.countLive('alice', windowAt(60))).toBe(1);
      });

      it('by id and userId: ends nothing when the session belongs to another user', async () => {
        const [a] = await insert(newSession({ userId: 'alice' }));
        expect(await store.revoke({ id: a.id, userId: 'bob' }, 'revoked', windowAt(60))).toEqual([]);
        expect(await store.findById(a.id)).toEqual(a);
        const ended = await store.revoke({ id: a.id, userId: 'alice' }, 'revoked', windowAt(60));
        expect(ids(ended)).toEqual([a.id]);
      });

      it('ends nothing for an unknown id or a session that is expired or idle', async () => {
        const [expired] = await insert(newSession({ expiresAt: at(60) }));
        const [idle] = await insert(newSession({ lastActivityAt: at(60 - IDLE) }));
        expect(await store.revoke({ id: randomUUID() }, 'revoked', windowAt(60))).toEqual([]);
        expect(await store.revoke({ id: expired.id }, 'revoked', windowAt(60))).toEqual([]);
        expect(await store.revoke({ id: idle.id }, 'revoked', windowAt(60))).toEqual([]);
        expect((await store.findById(expired.id))!.revokedAt).toBeNull();
        expect((await store.findById(idle.id))!.revokedAt).toBeNull();
      });
    });

    describe('endIssuedBefore (the step after a database restore)', () => {
      const NOW = 10 * DAY;
      /** A session opened at `at(created)`, live at NOW unless overridden. */
      const openedAt = (created: number, overrides: Partial<NewSessionRecord> = {}) =>
        newSession({ createdAt: at(created), authenticatedAt: at(created), lastActivityAt: at(NOW - 60), expiresAt: at(NOW + DAY), ...overrides });

      /** Every batch until the store says none is left; returns the ended sessions in order and the batch sizes. */
      async function endAll(before: Date, limit: number, reason: 'not_before' = 'not_before') {
        const ended: SessionRecord[] = [];
        const sizes: number[] = [];
        let after: { createdAt: Date; id: string } | undefined;
        for (let calls = 0; calls < 100; calls++) {
          const batch = await store.endIssuedBefore(before, at(NOW), reason, limit, after);
          ended.push(...batch.ended);
          sizes.push(batch.ended.length);
          if (!batch.next) return { ended, sizes };
          after = batch.next;
        }
        throw new Error('endIssuedBefore never said it was done');
      }

      it('ends every session opened before the moment that has not ended, and nothing else', async () => {
        const CUT = 5 * DAY;
        // Kept: already recorded as expired (by the sweep, before the others exist).
        const [swept] = await insert(openedAt(CUT - DAY, { expiresAt: at(NOW - 30) }));
        const [recorded] = await store.markExpired({ now: at(NOW - 10), activeSince: at(NOW - 10 - IDLE) }, IDLE, 10);
        expect(recorded.id).toBe(swept.id);
        // Ended: opened before the moment and not ended, whether or not their time ran out.
        const [alice, bob, idleUnswept, expiredUnswept] = await insert(
          openedAt(CUT - 3 * DAY, { userId: 'alice' }),
          openedAt(CUT - 1, { userId: 'bob' }),
          openedAt(CUT - 2 * DAY, { lastActivityAt: at(NOW - 2 * IDLE) }),
          openedAt(CUT - 2 * DAY, { expiresAt: at(NOW - 60) }),
        );
        // Kept: opened at or after the moment, already revoked.
        const [atCut, after] = await insert(openedAt(CUT), openedAt(CUT + 1));
        const revoked = await insertRevoked(NOW - 100, openedAt(CUT - DAY));

        const batch = await store.endIssuedBefore(at(CUT), at(NOW), 'not_before', 100);
        expect(batch.next).toBeNull();
        expect(sortedIds(batch.ended)).toEqual(sortedIds([alice, bob, idleUnswept, expiredUnswept]));
        const before = new Map([alice, bob, idleUnswept, expiredUnswept].map((s) => [s.id, s]));
        for (const s of batch.ended) {
          expect(s).toEqual({ ...before.get(s.id), revokedAt: at(NOW), revokedReason: 'not_before', endedAt: at(NOW), version: s.version });
          expect(s.version).toBeGreaterThan(before.get(s.id)!.version);
          expect(await store.findById(s.id)).toEqual(s);
        }
        for (const kept of [atCut, after, revoked, recorded]) expect(await store.findById(kept.id)).toEqual(kept);
        // Done once: a second pass ends nothing.
        expect(await store.endIssuedBefore(at(CUT), at(NOW + 1), 'not_before', 100)).toEqual({ ended: [], next: null });
      });

      it('works in batches of at most `limit`, oldest first (ties by id), each going on where the last stopped', async () => {
        const sessions = await insert(
          ...[300, 100, 200, 200, 200, 50, 400].map((t) => openedAt(t)),
          openedAt(1000), // after the moment
        );
        const { ended, sizes } = await endAll(at(999), 2);
        expect(sizes).toEqual([2, 2, 2, 1]);
        const expected = sessions
          .filter((s) => s.createdAt < at(999))
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
        expect(ids(ended)).toEqual(ids(expected));
        expect(await store.countLive(undefined, windowAt(NOW))).toBe(1);
      });

      it('says where to go on: the last session of a full batch; null after a short one', async () => {
        const [first, second, third] = await insert(openedAt(100), openedAt(200), openedAt(300));
        const one = await store.endIssuedBefore(at(999), at(NOW), 'not_before', 2);
        expect(ids(one.ended)).toEqual([first.id, second.id]);
        expect(one.next).toEqual({ createdAt: second.createdAt, id: second.id });
        const two = await store.endIssuedBefore(at(999), at(NOW), 'not_before', 2, one.next!);
        expect(ids(two.ended)).toEqual([third.id]);
        expect(two.next).toBeNull();
      });

      it('skips a session ended by someone else between two batches and goes on past it', async () => {
        const [a, b, c, d] = await insert(openedAt(100), openedAt(200), openedAt(300), openedAt(400));
        const one = await store.endIssuedBefore(at(999), at(NOW), 'not_before', 2);
        expect(ids(one.ended)).toEqual([a.id, b.id]);
        const [byAdmin] = await store.revoke({ id: c.id }, 'revoked_by_admin', windowAt(NOW));
        const two = await store.endIssuedBefore(at(999), at(NOW), 'not_before', 2, one.next!);
        expect(ids(two.ended)).toEqual([d.id]);
        expect(await store.findById(c.id)).toEqual(byAdmin);
      });

      it('what it ends is what the cache reconciliation reads (ended at `at`)', async () => {
        const [s] = await insert(openedAt(100));
        await store.endIssuedBefore(at(999), at(NOW), 'not_before', 10);
        expect(await store.revokedAccessSince(at(NOW), 10)).toEqual([{ userId: s.userId, accessHash: s.accessHash, at: at(NOW) }]);
      });
    });

    describe('evictBeyond', () => {
      it('keeps the N most recently active live sessions and evicts the rest', async () => {
        const [s10, s20, s30, s40] = await insert(
          newSession({ userId: 'alice', lastActivityAt: at(10) }),
          newSession({ userId: 'alice', lastActivityAt: at(20) }),
          newSession({ userId: 'alice', lastActivityAt: at(30) }),
          newSession({ userId: 'alice', lastActivityAt: at(40) }),
        );
        const [bob] = await insert(newSession({ userId: 'bob', lastActivityAt: at(5) }));
        const evicted = await store.evictBeyond('alice', 2, windowAt(60));
        expect(sortedIds(evicted)).toEqual([s10.id, s20.id].sort());
        for (const s of evicted) {
          expect(s).toMatchObject({ revokedAt: at(60), revokedReason: 'evicted' });
          expect(s.version).toBeGreaterThan(1);
        }
        expect(ids(await store.listLive('alice', windowAt(60)))).toEqual([s40.id, s30.id]);
        expect(await store.findById(bob.id)).toEqual(bob);
      });

      it('evicts nothing when the user has at most N live sessions (ended ones do not count)', async () => {
        await insert(newSession({ userId: 'alice', lastActivityAt: at(10) }), newSession({ userId: 'alice', lastActivityAt: at(20) }));
        const revoked = await insertRevoked(30, { userId: 'alice', lastActivityAt: at(30) });
        const [expired] = await insert(newSession({ userId: 'alice', lastActivityAt: at(30), expiresAt: at(50) }));
        expect(await store.evictBeyond('alice', 2, windowAt(60))).toEqual([]);
        expect(await store.evictBeyond('alice', 5, windowAt(60))).toEqual([]);
        expect(await store.countLive('alice', windowAt(60))).toBe(2);
        expect(await store.findById(revoked.id)).toEqual(revoked);
        expect(await store.findById(expired.id)).toEqual(expired);
      });

      it('with keep 0 evicts every live session of the user', async () => {
        await insert(newSession({ userId: 'alice' }), newSession({ userId: 'alice' }));
        expect(await store.evictBeyond('alice', 0, windowAt(60))).toHaveLength(2);
        expect(await store.countLive('alice', windowAt(60))).toBe(0);
      });
    });

    describe('listLive and countLive', () => {
      it('lists a user’s live sessions, most recently active first, and counts them', async () => {
        const [s10, s30, s20] = await insert(
          newSession({ userId: 'alice', lastActivityAt: at(10) }),
          newSession({ userId: 'alice', lastActivityAt: at(30) }),
          newSession({ userId: 'alice', lastActivityAt: at(20) }),
        );
        await insert(newSession({ userId: 'bob', lastActivityAt: at(40) }));
        const live = await store.listLive('alice', windowAt(60));
        expect(ids(live)).toEqual([s30.id, s20.id, s10.id]);
        expect(live[0]).toEqual(s30);
        expect(await store.countLive('alice', windowAt(60))).toBe(3);
        expect(await store.countLive('bob', windowAt(60))).toBe(1);
        expect(await store.listLive('nobody', windowAt(60))).toEqual([]);
        expect(await store.countLive('nobody', windowAt(60))).toBe(0);
      });

      it('leaves out revoked, expired and idle sessions (boundaries included)', async () => {
        const now = 2 * HOUR;
        const [live] = await insert(newSession({ userId: 'alice', lastActivityAt: at(now - IDLE + 1), expiresAt: at(now + 1) }));
        await insertRevoked(now - 10, { userId: 'alice', lastActivityAt: at(now - 20) });
        // Ends exactly now: no longer live.
        await insert(newSession({ userId: 'alice', lastActivityAt: at(now - 20), expiresAt: at(now) }));
        // Last active exactly IDLE ago: no longer live.
        await insert(newSession({ userId: 'alice', lastActivityAt: at(now - IDLE) }));
        expect(ids(await store.listLive('alice', windowAt(now)))).toEqual([live.id]);
        expect(await store.countLive('alice', windowAt(now))).toBe(1);
      });

      it('among equally recent sessions, the more recently created comes first', async () => {
        const [older, newer] = await insert(
          newSession({ userId: 'alice', createdAt: at(0), authenticatedAt: at(0), lastActivityAt: at(50) }),
          newSession({ userId: 'alice', createdAt: at(40), authenticatedAt: at(40), lastActivityAt: at(50) }),
        );
        expect(ids(await store.listLive('alice', windowAt(60)))).toEqual([newer.id, older.id]);
        // ...so the older one is the least recently used and goes first.
        expect(ids(await store.evictBeyond('alice', 1, windowAt(60)))).toEqual([older.id]);
      });
    });

    describe('recentClients (the new-device check at login)', () => {
      /** A session of `userId` opened at `at(seconds)` from this client. */
      const openedAt = (seconds: number, client: Partial<NewSessionRecord> = {}, userId = 'user-1') =>
        newSession({ userId, createdAt: at(seconds), authenticatedAt: at(seconds), lastActivityAt: at(seconds), ...client });

      it("returns the clients of the user's sessions created since the moment, newest first, at most `limit`", async () => {
        await insert(
          openedAt(-10, { ipAddress: '198.51.100.1', userAgent: 'too old' }),
          openedAt(0, { ipAddress: '198.51.100.2', userAgent: 'first', deviceId: 'device-a' }),
          openedAt(20, { ipAddress: '198.51.100.4', userAgent: 'third', deviceId: null }),
          openedAt(10, { ipAddress: '198.51.100.3', userAgent: 'second', deviceId: 'device-b' }),
          openedAt(30, { userAgent: 'another user' }, 'user-2'),
        );
        const clients = await store.recentClients({ userId: 'user-1', since: at(0), limit: 10 });
        expect(clients).toEqual([
          { createdAt: at(20), ipAddress: '198.51.100.4', userAgent: 'third', deviceId: null },
          { createdAt: at(10), ipAddress: '198.51.100.3', userAgent: 'second', deviceId: 'device-b' },
          { createdAt: at(0), ipAddress: '198.51.100.2', userAgent: 'first', deviceId: 'device-a' },
        ]);
        expect((await store.recentClients({ userId: 'user-1', since: at(0), limit: 2 })).map((c) => c.userAgent)).toEqual(['third', 'second']);
      });

      it('counts ended sessions too, and leaves out `exceptId`', async () => {
        const ended = await insertRevoked(5, { userAgent: 'logged out', createdAt: at(1) });
        const [current] = await insert(openedAt(10, { userAgent: 'just opened' }));
        const clients = await store.recentClients({ userId: ended.userId, since: at(0), limit: 10, exceptId: current.id });
        expect(clients.map((c) => c.userAgent)).toEqual(['logged out']);
      });

      it('evictBeyondThenRecentClients evicts as evictBeyond and reads the history as recentClients', async () => {
        const [s10, s20, , opened] = await insert(
          openedAt(10, { ipAddress: '198.51.100.1', userAgent: 'first', deviceId: 'device-a' }),
          openedAt(20, { ipAddress: '198.51.100.2', userAgent: 'second', deviceId: null }),
          openedAt(30, { ipAddress: null, userAgent: null, deviceId: 'device-c' }),
          openedAt(40, { userAgent: 'just opened' }),
          openedAt(50, { userAgent: 'another user' }, 'user-2'),
        );
        const query = { userId: 'user-1', since: at(0), limit: 10, exceptId: opened.id };
        const history = await store.recentClients(query);
        expect(history.map((c) => c.userAgent)).toEqual([null, 'second', 'first']);
        const result = await store.evictBeyondThenRecentClients('user-1', 2, windowAt(60), opened.id, query);
        expect(sortedIds(result.evicted)).toEqual([s10.id, s20.id].sort());
        for (const s of result.evicted) expect(s).toMatchObject({ revokedAt: at(60), revokedReason: 'evicted' });
        expect(result.recentClients).toEqual(history);
        expect(await store.countLive('user-1', windowAt(60))).toBe(2);
        // Nothing to evict, an empty history, or none asked.
        expect(await store.evictBeyondThenRecentClients('user-1', 2, windowAt(60), opened.id, { ...query, since: at(45) })).toEqual({
          evicted: [],
          recentClients: [],
        });
        expect(await store.evictBeyondThenRecentClients('user-1', 2, windowAt(60), opened.id, null)).toEqual({ evicted: [], recentClients: null });
      });

      it('returns nothing for a user without sessions in the lookback', async () => {
        await insert(openedAt(0));
        expect(await store.recentClients({ userId: 'nobody', since: at(0), limit: 10 })).toEqual([]);
        expect(await store.recentClients({ userId: 'user-1', since: at(1), limit: 10 })).toEqual([]);
      });
    });

    describe('pageLive', () => {
      /** Five live sessions of alice (activity 10..50), two of bob, plus ended ones. */
      async function seed() {
        const alice = await insert(
          ...[10, 20, 30, 40, 50].map((t) => newSession({ userId: 'alice', lastActivityAt: at(t) })),
        );
        const bob = await insert(
          newSession({ userId: 'bob', lastActivityAt: at(15) }),
          newSession({ userId: 'bob', lastActivityAt: at(45) }),
        );
        await insertRevoked(55, { userId: 'alice', lastActivityAt: at(55) });
        await insert(newSession({ userId: 'bob', lastActivityAt: at(55), expiresAt: at(58) }));
        await insert(newSession({ userId: 'alice', lastActivityAt: at(60 - IDLE) }));
        const byRecency = (list: SessionRecord[]) =>
          [...list].sort((x, y) => y.lastActivityAt.getTime() - x.lastActivityAt.getTime());
        return { alice: byRecency(alice), bob: byRecency(bob), all: byRecency([...alice, ...bob]) };
      }

      it('pages one user’s live sessions with offset, limit and total', async () => {
        const { alice } = await seed();
        const page = await store.pageLive({ userId: 'alice', offset: 1, limit: 2 }, windowAt(60));
        expect(page.total).toBe(5);
        expect(ids(page.items)).toEqual(ids(alice.slice(1, 3)));
        expect(page.items[0]).toEqual(alice[1]);

        const last = await store.pageLive({ userId: 'alice', offset: 4, limit: 2 }, windowAt(60));
        expect(ids(last.items)).toEqual([alice[4].id]);
        expect(last.total).toBe(5);

        const beyond = await store.pageLive({ userId: 'alice', offset: 10, limit: 2 }, windowAt(60));
        expect(beyond).toEqual({ items: [], total: 5 });
      });

      it('without userId pages every user’s live sessions, most recently active first', async () => {
        const { all } = await seed();
        const page = await store.pageLive({ offset: 0, limit: 4 }, windowAt(60));
        expect(page.total).toBe(7);
        expect(ids(page.items)).toEqual(ids(all.slice(0, 4)));
        const rest = await store.pageLive({ offset: 4, limit: 10 }, windowAt(60));
        expect(ids(rest.items)).toEqual(ids(all.slice(4)));
      });

      it('an unknown user has an empty page', async () => {
        await seed();
        expect(await store.pageLive({ userId: 'nobody', offset: 0, limit: 10 }, windowAt(60))).toEqual({
          items: [],
          total: 0,
        });
      });
    });

    describe('deleteEnded', () => {
      const CUTOFF = 10 * DAY;

      it('deletes only sessions that ended (revoked, expired or idle) before the cutoff', async () => {
        const fresh = (t: number) => ({ lastActivityAt: at(t), expiresAt: at(CUTOFF + 30 * DAY) });
        // Ended before the cutoff: deleted.
        const revokedBefore = await insertRevoked(CUTOFF - 1, fresh(CUTOFF - 100));
        const [expiredBefore] = await insert(newSession({ ...fresh(CUTOFF - IDLE), expiresAt: at(CUTOFF - 1) }));
        const [idleBefore] = await insert(newSession(fresh(CUTOFF - IDLE - 1)));
        // Ended at or after the cutoff, or still live: kept.
        const revokedAfter = await insertRevoked(CUTOFF + 1, fresh(CUTOFF - 100));
        const revokedAtCutoff = await insertRevoked(CUTOFF, fresh(CUTOFF - 100));
        const [expiresAtCutoff] = await insert(newSession({ ...fresh(CUTOFF - 100), expiresAt: at(CUTOFF) }));
        const [idleAtCutoff] = await insert(newSession(fresh(CUTOFF - IDLE)));
        const [live] = await insert(newSession(fresh(CUTOFF - 10)));

        expect(await store.deleteEnded(at(CUTOFF), IDLE, 100)).toBe(3);
        for (const gone of [revokedBefore, expiredBefore, idleBefore]) {
          expect(await store.findById(gone.id)).toBeNull();
        }
        for (const kept of [revokedAfter, revokedAtCutoff, expiresAtCutoff, idleAtCutoff, live]) {
          expect(await store.findById(kept.id)).toEqual(kept);
        }
        expect(await store.deleteEnded(at(CUTOFF), IDLE, 100)).toBe(0);
      });

      it('a session the expiry sweep recorded is deleted by its recorded end', async () => {
        const [expired] = await insert(newSession({ lastActivityAt: at(CUTOFF - 100), expiresAt: at(CUTOFF - 1) }));
        const [idle] = await insert(newSession({ lastActivityAt: at(CUTOFF - IDLE - 1), expiresAt: at(CUTOFF + DAY) }));
        const [endsAfter] = await insert(newSession({ lastActivityAt: at(CUTOFF - 100), expiresAt: at(CUTOFF + 1) }));
        expect(await store.markExpired(windowAt(CUTOFF + 2), IDLE, 100)).toHaveLength(3);
        expect(await store.deleteEnded(at(CUTOFF), IDLE, 100)).toBe(2);
        expect(await store.findById(expired.id)).toBeNull();
        expect(await store.findById(idle.id)).toBeNull();
        expect((await store.findById(endsAfter.id))?.endedAt).toEqual(at(CUTOFF + 1));
      });

      it('deletes at most batchSize per call and never a live session', async () => {
        for (let i = 0; i < 5; i++) await insertRevoked(100 + i);
        const live = await insert(newSession({ lastActivityAt: at(CUTOFF - 10), expiresAt: at(CUTOFF + DAY) }), newSession({ lastActivityAt: at(CUTOFF - 20), expiresAt: at(CUTOFF + DAY) }));
        const counts: number[] = [];
        for (;;) {
          const n = await store.deleteEnded(at(CUTOFF), IDLE, 2);
          counts.push(n);
          if (n < 2) break;
        }
        expect(counts).toEqual([2, 2, 1]);
        expect(await store.pageLive({ offset: 0, limit: 10 }, windowAt(CUTOFF))).toEqual({
          items: [...live].sort((x, y) => y.lastActivityAt.getTime() - x.lastActivityAt.getTime()),
          total: 2,
        });
      });
    });

    describe('deleteRotatedBefore (the records of old rotations)', () => {
      /** Rotates `session` at each of `seconds`; returns the refresh and access hashes rotated away. */
      async function rotateAt(session: SessionRecord, ...seconds: number[]) {
        let refreshHash = session.refreshHash;
        const away: Array<{ refreshHash: string; accessHash: string }> = [];
        for (const t of seconds) {
          const target = rotationTarget(t);
          const rotation = await store.rotate(refreshHash, target, windowAt(t));
          expect(rotation).not.toBeNull();
          away.push({ refreshHash, accessHash: rotation!.replacedAccessHash });
          refreshHash = target.refreshHash;
        }
        return away;
      }

      it('deletes the records of rotations before the cut-off, at most batchSize per call; later ones, and the sessions, stay', async () => {
        const [a, b] = await insert(newSession(), newSession({ userId: 'user-2' }));
        const awayA = await rotateAt(a, 600, 1200, 1800, 2400);
        const awayB = await rotateAt(b, 900, 2000);
        const sessionsBefore = await Promise.all([a, b].map((s) => store.findById(s.id)));

        // Cut-off 2000: A's 600, 1200, 1800 and B's 900 go; B's rotation at 2000 exactly stays.
        const counts: number[] = [];
        for (;;) {
          const n = await store.deleteRotatedBefore(at(2000), 3);
          counts.push(n);
          if (n < 3) break;
        }
        expect(counts).toEqual([3, 1]);

        for (const gone of [...awayA.slice(0, 3), awayB[0]]) {
          expect(await store.findByRotatedRefreshHash(gone.refreshHash)).toBeNull();
        }
        expect(await store.findByRotatedRefreshHash(awayA[3].refreshHash)).toMatchObject({ id: a.id });
        expect(await store.findByRotatedRefreshHash(awayB[1].refreshHash)).toMatchObject({ id: b.id });
        // The sessions are untouched: live, same version, same tokens.
        expect(await Promise.all([a, b].map((s) => store.findById(s.id)))).toEqual(sessionsBefore);
        // The reconciliation no longer lists the access hashes of the deleted records.
        expect((await store.revokedAccessSince(at(0), 10)).map((r) => r.accessHash)).toEqual([awayB[1].accessHash, awayA[3].accessHash]);
        expect(await store.deleteRotatedBefore(at(2000), 3)).toBe(0);
      });

      it('a refresh token rotated away before the cut-off is refused by rotate before and after; after, it no longer finds its session (no reuse to detect)', async () => {
        const [s] = await insert(newSession());
        const [old, recent] = await rotateAt(s, 600, 1800);
        // Before the prune: rotate refuses it, and findByRotatedRefreshHash finds the session (reuse).
        expect(await store.rotate(old.refreshHash, rotationTarget(2400), windowAt(2400))).toBeNull();
        expect(await store.findByRotatedRefreshHash(old.refreshHash)).toMatchObject({ id: s.id });

        expect(await store.deleteRotatedBefore(at(1200), 10)).toBe(1);

        expect(await store.rotate(old.refreshHash, rotationTarget(2400), windowAt(2400))).toBeNull();
        expect(await store.findByRotatedRefreshHash(old.refreshHash)).toBeNull();
        // The one rotated away after the cut-off still leads to its session: reuse is still caught.
        expect(await store.findByRotatedRefreshHash(recent.refreshHash)).toMatchObject({ id: s.id, revokedAt: null });
        expect(await store.listLive(s.userId, windowAt(2400))).toHaveLength(1);
      });

      it('deletes the records of ended sessions too, and leaves the sessions to deleteEnded', async () => {
        const [s] = await insert(newSession());
        const [away] = await rotateAt(s, 600);
        const [ended] = await store.revoke({ id: s.id }, 'logout', windowAt(700));
        expect(await store.deleteRotatedBefore(at(1000), 10)).toBe(1);
        expect(await store.findByRotatedRefreshHash(away.refreshHash)).toBeNull();
        expect(await store.findById(s.id)).toEqual(ended);
        // The session's own end is still what the reconciliation reads.
        expect(await store.revokedAccessSince(at(0), 10)).toEqual([{ userId: s.userId, accessHash: ended.accessHash, at: at(700) }]);
      });
    });

    describe('markExpired (the expiry sweep)', () => {
      const NOW = 10 * DAY;

      it('records when each session ran out of time, expired or idle, once, and leaves the others', async () => {
        const [expired] = await insert(newSession({ lastActivityAt: at(NOW - 100), expiresAt: at(NOW - 50) }));
        const [idle] = await insert(newSession({ lastActivityAt: at(NOW - IDLE - 30), expiresAt: at(NOW + DAY) }));
        const [expiresAtNow] = await insert(newSession({ lastActivityAt: at(NOW - 100), expiresAt: at(NOW) }));
        const [live] = await insert(newSession({ lastActivityAt: at(NOW - 10), expiresAt: at(NOW + DAY) }));
        const revoked = await insertRevoked(NOW - 5 * DAY, { lastActivityAt: at(NOW - 5 * DAY - 60), expiresAt: at(NOW - 4 * DAY) });

        const marked = await store.markExpired(windowAt(NOW), IDLE, 100);
        expect(sortedIds(marked)).toEqual(sortedIds([expired, idle, expiresAtNow]));
        const byId = new Map(marked.map((s) => [s.id, s]));
        expect(byId.get(expired.id)!.endedAt).toEqual(at(NOW - 50));
        expect(byId.get(idle.id)!.endedAt).toEqual(at(NOW - 30));
        expect(byId.get(expiresAtNow.id)!.endedAt).toEqual(at(NOW));
        for (const s of marked) {
          expect(s.revokedAt).toBeNull();
          expect(await store.findById(s.id)).toEqual(s);
        }
        expect(await store.findById(live.id)).toEqual(live);
        expect(await store.findById(revoked.id)).toEqual(revoked);
        // Once recorded, never again.
        expect(await store.markExpired(windowAt(NOW + 1), IDLE, 100)).toEqual([]);
      });

      it('judges expiry at window.now and idleness at window.activeSince (a sweep may wait longer for idle ones)', async () => {
        const [expired] = await insert(newSession({ lastActivityAt: at(NOW - 100), expiresAt: at(NOW - 1) }));
        const [idleLongAgo] = await insert(newSession({ lastActivityAt: at(NOW - IDLE - 120), expiresAt: at(NOW + DAY) }));
        const [idleJustNow] = await insert(newSession({ lastActivityAt: at(NOW - IDLE - 30), expiresAt: at(NOW + DAY) }));
        const marked = await store.markExpired({ now: at(NOW), activeSince: at(NOW - IDLE - 60) }, IDLE, 100);
        expect(sortedIds(marked)).toEqual(sortedIds([expired, idleLongAgo]));
        expect(marked.find((s) => s.id === idleLongAgo.id)!.endedAt).toEqual(at(NOW - 120));
        expect(await store.findById(idleJustNow.id)).toEqual(idleJustNow);
      });

      it('marks at most batchSize per call', async () => {
        for (let i = 0; i < 5; i++) await insert(newSession({ expiresAt: at(100 + i) }));
        const counts: number[] = [];
        for (;;) {
          const n = (await store.markExpired(windowAt(NOW), IDLE, 2)).length;
          counts.push(n);
          if (n < 2) break;
        }
        expect(counts).toEqual([2, 2, 1]);
      });

      it('a session recorded as ended is never live again: touch, rotate, extend and revoke leave it alone', async () => {
        const [s] = await insert(newSession({ lastActivityAt: at(NOW - IDLE - 1), expiresAt: at(NOW + DAY) }));
        const [marked] = await store.markExpired(windowAt(NOW), IDLE, 10);
        await store.touch(s.id, at(NOW));
        await store.touchMany([{ id: s.id, at: at(NOW) }]);
        // Even in a window where its (old) last activity would look recent enough:
        const lenient: LiveWindow = { now: at(NOW), activeSince: at(0) };
        expect(await store.rotate(s.refreshHash, rotationTarget(NOW), lenient)).toBeNull();
        expect(await store.extend(s.id, at(NOW + 2 * DAY), lenient)).toBeNull();
        expect(await store.revoke({ id: s.id }, 'logout', lenient)).toEqual([]);
        expect(await store.listLive(s.userId, lenient)).toEqual([]);
        expect(await store.findById(s.id)).toEqual(marked);
      });
    });

    describe('revokedAccessSince', () => {
      it('pages the access hashes that stopped being valid since a moment, of ended sessions and of rotations, oldest first', async () => {
        const early = await insertRevoked(100);
        const a = await insertRevoked(200);
        const [rotating] = await insert(newSession());
        const rotation = await store.rotate(rotating.refreshHash, rotationTarget(250), windowAt(250));
        expect(rotation?.replacedAccessHash).toBe(rotating.accessHash);
        const b = await insertRevoked(300);
        const [expired] = await insert(newSession({ expiresAt: at(260) }));
        await store.markExpired(windowAt(400), IDLE, 10);
        await insert(newSession()); // live: never listed, nor is the rotated session's current hash
        const all = await store.revokedAccessSince(at(200), 10);
        expect(all).toEqual([
          { userId: a.userId, accessHash: a.accessHash, at: at(200) },
          { userId: rotating.userId, accessHash: rotating.accessHash, at: at(250) },
          { userId: expired.userId, accessHash: expired.accessHash, at: at(260) },
          { userId: b.userId, accessHash: b.accessHash, at: at(300) },
        ]);
        const first = await store.revokedAccessSince(at(200), 2);
        expect(first).toEqual(all.slice(0, 2));
        expect(await store.revokedAccessSince(at(200), 2, first[1])).toEqual(all.slice(2));
        expect((await store.revokedAccessSince(at(0), 10)).map((r) => r.accessHash)).toContain(early.accessHash);
      });

      it('keeps listing a rotated-away access hash after the session ended too', async () => {
        const [session] = await insert(newSession());
        await store.rotate(session.refreshHash, rotationTarget(100), windowAt(100));
        const [ended] = await store.revoke({ id: session.id }, 'logout', windowAt(200));
        const hashes = (await store.revokedAccessSince(at(0), 10)).map((r) => r.accessHash);
        expect(hashes).toEqual([session.accessHash, ended.accessHash]);
      });
    });

    describe('insertIfAbsent', () => {
      it('stores a session unless one with its id exists; of concurrent calls with one id exactly one stores it', async () => {
        const first = newSession({ deviceId: null });
        const results = await Promise.all(Array.from({ length: 5 }, () => store.insertIfAbsent({ ...first })));
        const stored = results.filter((r) => r !== null);
        expect(stored).toHaveLength(1);
        expect(stored[0]).toMatchObject({ id: first.id, accessHash: first.accessHash, revokedAt: null, version: 1 });
        // Another session with that id (other tokens) changes nothing.
        expect(await store.insertIfAbsent(newSession({ id: first.id, deviceId: null }))).toBeNull();
        expect((await store.findById(first.id))!.accessHash).toBe(first.accessHash);
      });
    });

    describe('endedSince', () => {
      it('pages the sessions that ended since a moment, by end then id, of one user or issued before a moment', async () => {
        const early = await insertRevoked(100);
        const a = await insertRevoked(200);
        const [rotating] = await insert(newSession());
        await store.rotate(rotating.refreshHash, rotationTarget(250), windowAt(250));
        const rotated = (await store.revoke({ id: rotating.id }, 'logout', windowAt(300)))[0];
        const bob = await insertRevoked(300, { userId: 'bob', createdAt: at(-10) });
        const [expired] = await insert(newSession({ expiresAt: at(260) }));
        await store.markExpired(windowAt(400), IDLE, 10);
        await insert(newSession()); // live: never listed

        const all = await store.endedSince({}, at(200), 10);
        const byEnd = [rotated, bob].sort((x, y) => (x.id < y.id ? -1 : 1));
        expect(all.map((s) => s.id)).toEqual([a.id, expired.id, ...byEnd.map((s) => s.id)]);
        expect(all.find((s) => s.id === rotating.id)).toMatchObject({ accessHash: rotated.accessHash, previousAccessHash: rotating.accessHash });
        const first = await store.endedSince({}, at(200), 2);
        expect(first.map((s) => s.id)).toEqual(all.slice(0, 2).map((s) => s.id));
        const rest = await store.endedSince({}, at(200), 10, { endedAt: first[1].endedAt!, id: first[1].id });
        expect(rest.map((s) => s.id)).toEqual(all.slice(2).map((s) => s.id));
        expect((await store.endedSince({ userId: 'bob' }, at(0), 10)).map((s) => s.id)).toEqual([bob.id]);
        expect((await store.endedSince({ createdBefore: at(0) }, at(0), 10)).map((s) => s.id)).toEqual([bob.id]);
        expect((await store.endedSince({}, at(0), 10)).map((s) => s.id)).toContain(early.id);
      });
    });

    describe('summarize', () => {
      const NOW = 10 * DAY;
      const SINCE = NOW - DAY;

      it('counts live sessions, and the ones opened, revoked, expired and ended since a moment', async () => {
        const open = (created: number, overrides: Partial<NewSessionRecord> = {}) =>
          newSession({ createdAt: at(created), authenticatedAt: at(created), lastActivityAt: at(created), expiresAt: at(created + 30 * DAY), ...overrides });
        // Live now; two of them opened in the last day.
        await insert(open(NOW - 2 * DAY, { lastActivityAt: at(NOW - 60) }), open(NOW - 600), open(NOW - 60));
        // Revoked in the last day, 1 h after it was opened; revoked earlier.
        await insertRevoked(NOW - HOUR, open(NOW - 2 * HOUR, { lastActivityAt: at(NOW - HOUR - 60) }));
        await insertRevoked(NOW - 2 * DAY, open(NOW - 3 * DAY, { lastActivityAt: at(NOW - 2 * DAY - 60) }));
        // Ran out of time in the last day (2 h after it was opened), and before that.
        await insert(open(NOW - 5 * HOUR, { lastActivityAt: at(NOW - 3 * HOUR - 60), expiresAt: at(NOW - 3 * HOUR) }));
        await insert(open(NOW - 3 * DAY, { expiresAt: at(NOW - 2 * DAY) }));
        await store.markExpired(windowAt(NOW), IDLE, 100);

        expect(await store.summarize(windowAt(NOW), at(SINCE))).toEqual({
          active: 3,
          createdSince: 4,
          revokedSince: 1,
          expiredSince: 1,
          endedSince: 2,
          endedLifetimeSeconds: HOUR + 2 * HOUR,
        });
      });

      it('is all zeros for an empty store', async () => {
        expect(await store.summarize(windowAt(NOW), at(SINCE))).toEqual({
          active: 0, createdSince: 0, revokedSince: 0, expiredSince: 0, endedSince: 0, endedLifetimeSeconds: 0,
        });
      });
    });

    describe('recordConcurrency and peakConcurrency', () => {
      it('the peak is the largest sample since a moment; old samples are forgotten', async () => {
        await store.recordConcurrency(at(100), 7, at(0));
        await store.recordConcurrency(at(200), 12, at(0));
        await store.recordConcurrency(at(300), 9, at(0));
        expect(await store.peakConcurrency(at(0))).toBe(12);
        expect(await store.peakConcurrency(at(250))).toBe(9);
        expect(await store.peakConcurrency(at(301))).toBe(0);
        // Keeping only samples since 250 forgets the 12.
        await store.recordConcurrency(at(400), 3, at(250));
        expect(await store.peakConcurrency(at(0))).toBe(9);
      });

      it('two samples at one moment keep the larger', async () => {
        await store.recordConcurrency(at(100), 7, at(0));
        await store.recordConcurrency(at(100), 5, at(0));
        expect(await store.peakConcurrency(at(0))).toBe(7);
      });
    });

    describe('under concurrency', () => {
      /** Rounds per case: races are timing-dependent, so each is run several times. */
      const ROUNDS = 15;

      it('concurrent logins (insert, then evictBeyond) never leave more than `keep` live sessions', async () => {
        const KEEP = 2;
        const overLimit: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const userId = `racer-${round}`;
          await Promise.all(
            [1, 2, 3, 4, 5, 6].map(async (t) => {
              await store.insert(
                newSession({ userId, createdAt: at(t), authenticatedAt: at(t), lastActivityAt: at(t) }),
              );
              await store.evictBeyond(userId, KEEP, windowAt(60));
            }),
          );
          const live = await store.countLive(userId, windowAt(60));
          if (live > KEEP) overLimit.push(live);
        }
        expect(overLimit).toEqual([]);
      });

      it('concurrent logins (insert, then evictBeyondThenRecentClients) never leave more than `keep` live sessions', async () => {
        const KEEP = 2;
        const overLimit: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const userId = `history-racer-${round}`;
          await Promise.all(
            [1, 2, 3, 4, 5, 6].map(async (t) => {
              const { session } = await store.insert(
                newSession({ userId, createdAt: at(t), authenticatedAt: at(t), lastActivityAt: at(t) }),
              );
              await store.evictBeyondThenRecentClients(userId, KEEP, windowAt(60), session.id, {
                userId,
                since: at(0),
                limit: 50,
                exceptId: session.id,
              });
            }),
          );
          const live = await store.countLive(userId, windowAt(60));
          if (live > KEEP) overLimit.push(live);
        }
        expect(overLimit).toEqual([]);
      });

      it('a revocation racing a rotation returns the session with the access hash that is current', async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const [s] = await insert(newSession({ userId: `racer-${round}` }));
          const target = rotationTarget(60);
          const [rotation, ended] = await Promise.all([
            store.rotate(s.refreshHash, target, windowAt(60)),
            store.revoke({ id: s.id }, 'logout', windowAt(60)),
          ]);
          // Revocation always wins in the end, and reports the hash a cache would hold.
          expect(ended).toHaveLength(1);
          expect(ended[0].accessHash).toBe(rotation ? target.accessHash : s.accessHash);
          expect(await store.findById(s.id)).toEqual(ended[0]);
        }
      });

      it('endIssuedBefore racing a rotation returns the session with the access hash that is current', async () => {
        for (let round = 0; round < ROUNDS; round++) {
          // Earlier rounds' sessions are ended already: each batch finds this round's alone.
          const [s] = await insert(newSession({ userId: `racer-${round}` }));
          const target = rotationTarget(60);
          const [rotation, batch] = await Promise.all([
            store.rotate(s.refreshHash, target, windowAt(60)),
            store.endIssuedBefore(at(30), at(60), 'not_before', 10),
          ]);
          expect(batch.ended).toHaveLength(1);
          expect(batch.ended[0].accessHash).toBe(rotation ? target.accessHash : s.accessHash);
          expect(await store.findById(s.id)).toEqual(batch.ended[0]);
        }
      });
    });

    it('ping answers true', async () => {
      expect(await store.ping()).toBe(true);
    });
  });
}
