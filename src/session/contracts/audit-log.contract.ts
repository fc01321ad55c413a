import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../ports/audit-log.js';
import { SessionEvent, SessionEventType } from '../session.events.js';

/** What an audit adapter hands the contract. */
export interface AuditLogHarness {
  /** Read again after every `reset()`: an adapter may swap the instance. */
  readonly log: AuditLog;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const BASE_MS = Date.UTC(2030, 0, 1, 0, 0, 0, 0);
const at = (seconds: number): Date => new Date(BASE_MS + seconds * 1000);

function event(type: SessionEventType, seconds: number, overrides: Partial<SessionEvent> = {}): SessionEvent {
  return {
    type,
    at: at(seconds),
    userId: 'user-1',
    sessionId: randomUUID(),
    ipAddress: '203.0.113.9',
    userAgent: 'Contract/1.0',
    detail: null,
    actorId: null,
    ...overrides,
  };
}

/** The behaviour every `AuditLog` adapter must have (see `src/session/ports/audit-log.ts`). */
export function auditLogContract(name: string, factory: () => Promise<AuditLogHarness>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let harness: AuditLogHarness | undefined;
    let log: AuditLog;

    beforeAll(async () => {
      harness = await factory();
    });
    afterAll(async () => {
      await harness?.close();
    });
    beforeEach(async () => {
      if (!harness) throw new Error(`${name}: the harness did not start`);
      await harness.reset();
      log = harness.log;
    });

    it('keeps every field of what it is given, and pages newest first', async () => {
      const first = event('login', 10, { detail: 'fresh', actorId: 'user-1' });
      const second = event('revoked', 20, { detail: 'revoked_by_admin', actorId: 'admin-7', ipAddress: '2001:db8::1' });
      const third = event('login_failed', 30, { userId: null, sessionId: null, userAgent: null, ipAddress: null });
      await log.append([first, second]);
      await log.append([third]);
      const page = await log.page({ offset: 0, limit: 10 });
      expect(page.total).toBe(3);
      expect(page.items.map((e) => ({ ...e }))).toEqual([third, second, first].map((e) => ({ ...e })));
    });

    it('filters by user and by type, with offset, limit and total', async () => {
      await log.append([
        event('login', 1),
        event('refresh', 2),
        event('login', 3, { userId: 'user-2' }),
        event('login', 4),
        event('logout', 5),
      ]);
      const logins = await log.page({ userId: 'user-1', type: 'login', offset: 0, limit: 10 });
      expect(logins.total).toBe(2);
      expect(logins.items.map((e) => e.at)).toEqual([at(4), at(1)]);
      const ofUser = await log.page({ userId: 'user-1', offset: 1, limit: 2 });
      expect(ofUser.total).toBe(4);
      expect(ofUser.items.map((e) => e.type)).toEqual(['login', 'refresh']);
      expect(await log.page({ userId: 'nobody', offset: 0, limit: 10 })).toEqual({ items: [], total: 0 });
    });

    it('among entries at one moment, the one appended last comes first', async () => {
      await log.append([event('login', 7, { detail: 'a' }), event('refresh', 7, { detail: 'b' })]);
      await log.append([event('logout', 7, { detail: 'c' })]);
      expect((await log.page({ offset: 0, limit: 10 })).items.map((e) => e.detail)).toEqual(['c', 'b', 'a']);
    });

    it('counts entries of each type after a moment, 0 for types it never saw', async () => {
      await log.append([
        event('login_failed', 5),
        event('login_failed', 15),
        event('login_failed', 16),
        event('reuse_detected', 20),
        event('login', 21),
      ]);
      expect(await log.countSince(['login_failed', 'reuse_detected', 'hijack_suspected'], at(5))).toEqual({
        login_failed: 2,
        reuse_detected: 1,
        hijack_suspected: 0,
      });
    });

    it('counts entries of one type per user after a moment, most first, ties by user id, without entries of no user', async () => {
      await log.append([
        event('login_failed', 5, { userId: 'user-a' }), // not after the moment
        event('login_failed', 6, { userId: 'user-b' }),
        event('login_failed', 7, { userId: 'user-c' }),
        event('login_failed', 8, { userId: 'user-c' }),
        event('login_failed', 9, { userId: 'user-a' }),
        event('login_failed', 10, { userId: null }),
        event('login_failed', 11, { userId: null }),
        event('login_failed', 12, { userId: null }),
        event('login', 13, { userId: 'user-b' }),
        event('login', 14, { userId: 'user-b' }),
      ]);
      expect(await log.countByUserSince('login_failed', at(5), 10)).toEqual([
        { userId: 'user-c', count: 2 },
        { userId: 'user-a', count: 1 },
        { userId: 'user-b', count: 1 },
      ]);
      expect(await log.countByUserSince('login_failed', at(5), 2)).toEqual([
        { userId: 'user-c', count: 2 },
        { userId: 'user-a', count: 1 },
      ]);
      expect(await log.countByUserSince('reuse_detected', at(0), 10)).toEqual([]);
    });

    it('counts the entries of a type since a moment whose detail starts with a prefix', async () => {
      await log.append([
        event('login', 1, { detail: 'migrated from express-session' }),
        event('login', 10, { detail: 'migrated from sql-table' }),
        event('login', 11, { detail: null }),
        event('login', 12, { detail: 'not migrated from' }),
        event('logout', 13, { detail: 'migrated from express-session' }),
      ]);
      expect(await log.countWithDetailSince('login', 'migrated from', at(5))).toBe(1);
      expect(await log.countWithDetailSince('login', 'migrated from', at(0))).toBe(2);
      expect(await log.countWithDetailSince('login', 'migrated from %', at(0))).toBe(0); // not a pattern
      expect(await log.countWithDetailSince('refresh', 'migrated', at(0))).toBe(0);
    });

    it('cuts text longer than its columns instead of refusing the batch, and drops NUL', async () => {
      const long = event('login', 1, { userAgent: 'A'.repeat(5000), detail: 'd'.repeat(1000), ipAddress: '1'.repeat(100) });
      await log.append([long, event('logout', 2, { detail: 'with\0nul' })]);
      const { items } = await log.page({ offset: 0, limit: 10 });
      expect(items[0].detail).toBe('withnul');
      expect(items[1].userAgent).toBe('A'.repeat(512));
      expect(items[1].detail).toBe('d'.repeat(256));
      expect(items[1].ipAddress).toBe('1'.repeat(64));
    });

    it('deletes entries older than a moment, at most batchSize per call', async () => {
      await log.append([1, 2, 3, 4, 5].map((s) => event('refresh', s)));
      await log.append([event('login', 100)]);
      const counts: number[] = [];
      for (;;) {
        const n = await log.deleteBefore(at(50), 2);
        counts.push(n);
        if (n < 2) break;
      }
      expect(counts).toEqual([2, 2, 1]);
      const { items, total } = await log.page({ offset: 0, limit: 10 });
      expect(total).toBe(1);
      expect(items[0].at).toEqual(at(100));
    });

    it('an empty batch is fine', async () => {
      await log.append([]);
      expect((await log.page({ offset: 0, limit: 10 })).total).toBe(0);
    });
  });
}
