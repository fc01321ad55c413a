import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { SESSION_MIGRATIONS } from '../../src/session';
import {
  advisoryLockKey,
  TypeOrmHousekeepingLock,
} from '../../src/session/adapters/typeorm/typeorm-housekeeping.lock';
import { TypeOrmSessionStore } from '../../src/session/adapters/typeorm/typeorm-session.store';
import { Clock } from '../../src/session/ports/clock';
import { SessionCleanupService } from '../../src/session/session-cleanup.service';
import { TEST_DATABASE_URL } from '../support/test-env';

/**
 * The cleanup job against the real PostgreSQL that the other suites share. It never empties a
 * table: every row it writes has a user id with this run's prefix and timestamps in 1991, so the
 * retention cutoff (late 1990) matches no one else's rows, and only our rows are removed.
 */
const PREFIX = `cleanup-${randomBytes(4).toString('hex')}-`;
const T0 = Date.UTC(1991, 0, 1, 12, 0, 0);
const DAY = 86_400_000;
const RETENTION = 30 * 86_400;
const IDLE_TTL = 7 * 86_400;
const REFRESH_TTL = 7 * 86_400;
const BATCH = 1000;
/** A lock key of this run, so a dev app cleaning the same database never interferes. */
const LOCK_KEY = advisoryLockKey(`test:${PREFIX}`);

const schema = {
  type: 'postgres' as const,
  migrations: SESSION_MIGRATIONS,
  synchronize: false,
  installExtensions: false,
  logging: false,
};

class FixedClock extends Clock {
  now(): number {
    return T0;
  }
}

const at = (days: number) => new Date(T0 + days * DAY);

/** `count` sessions of user `PREFIX + tag + n`, all with the given times (days from T0). */
async function seed(
  ds: DataSource,
  tag: string,
  count: number,
  t: { created: number; expires: number; activity?: number; revoked?: number },
): Promise<void> {
  await ds.query(
    `INSERT INTO sessions (id, user_id, roles, access_hash, refresh_hash, access_expires_at,
       expires_at, absolute_expires_at, created_at, authenticated_at, last_activity_at,
       revoked_at, revoked_reason)
     SELECT gen_random_uuid(), $1 || g, '{user}',
            md5($1 || 'a' || g) || md5($1 || 'A' || g), md5($1 || 'r' || g) || md5($1 || 'R' || g),
            $3, $4, $5, $3, $3, $6, $7, CASE WHEN $7::timestamptz IS NULL THEN NULL ELSE 'logout' END
       FROM generate_series(1, $2::int) g`,
    [
      `${PREFIX}${tag}-`,
      count,
      at(t.created),
      at(t.expires),
      at(t.created + 60),
      at(t.activity ?? t.created),
      t.revoked === undefined ? null : at(t.revoked),
    ],
  );
}

async function countOurs(ds: DataSource, tag = ''): Promise<number> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id LIKE $1`, [
    `${PREFIX}${tag}%`,
  ]);
  return n;
}

/** The rows of the retention test: 2750 to delete (three batches), 170 to keep. */
async function seedRetentionScenario(ds: DataSource): Promise<void> {
  // Ended more than 30 days before T0: deleted.
  await seed(ds, 'old-revoked', 2450, { created: -45, expires: 10, revoked: -40 });
  await seed(ds, 'old-expired', 200, { created: -42, expires: -35, activity: -36 });
  await seed(ds, 'old-idle', 100, { created: -41, expires: 10, activity: -40 }); // over at -33
  // Live, or ended less than 30 days ago: kept.
  await seed(ds, 'keep-live', 50, { created: -2, expires: 5, activity: -0.01 });
  await seed(ds, 'keep-revoked', 50, { created: -35, expires: 10, revoked: -29 });
  await seed(ds, 'keep-expired', 50, { created: -17, expires: -10, activity: -11 });
  await seed(ds, 'keep-idle', 20, { created: -37, expires: 10, activity: -36 }); // over at -29
}

function service(ds: DataSource, batchPauseMs = 20) {
  const store = new TypeOrmSessionStore(ds);
  const cleanup = new SessionCleanupService(
    {
      cleanupInterval: 0,
      retention: RETENTION,
      idleTtl: IDLE_TTL,
      refreshTtl: REFRESH_TTL,
      accessTtl: 900,
      cleanupBatchSize: BATCH,
      cleanupBatchPauseMs: batchPauseMs,
    },
    store,
    new TypeOrmHousekeepingLock(ds, () => LOCK_KEY),
    new FixedClock(),
  );
  return { store, cleanup };
}

/** What each call to `deleteEnded` returned, in order. */
async function batchSizes(spy: { mock: { results: Array<{ value: unknown }> } }): Promise<number[]> {
  return Promise.all(spy.mock.results.map((r) => r.value as Promise<number>));
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

beforeEach(() => {
  vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SessionCleanupService on PostgreSQL', () => {
  let a: DataSource;
  let b: DataSource;

  beforeAll(async () => {
    // One after the other: only the first runs pending migrations.
    a = await new DataSource({ ...schema, url: TEST_DATABASE_URL, migrationsRun: true }).initialize();
    b = await new DataSource({ ...schema, url: TEST_DATABASE_URL, migrationsRun: false }).initialize();
  });

  afterEach(async () => {
    await a.query(`DELETE FROM sessions WHERE user_id LIKE $1`, [`${PREFIX}%`]);
  });

  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
  });

  it('deletes rows ended before the cutoff in batches; live and recently ended rows stay', async () => {
    await seedRetentionScenario(a);
    await a.query(
      `INSERT INTO session_rotated_refresh_tokens (hash, session_id, rotated_at)
       SELECT md5(id::text) || md5(id::text || 'x'), id, created_at
         FROM sessions WHERE user_id LIKE $1`,
      [`${PREFIX}old-revoked-%`],
    );
    const { store, cleanup } = service(a);
    const deleteEnded = vi.spyOn(store, 'deleteEnded');

    await expect(cleanup.runOnce()).resolves.toEqual({ deleted: 2750, rotatedDeleted: 0, auditDeleted: 0, skipped: false });

    expect(await batchSizes(deleteEnded)).toEqual([1000, 1000, 750]);
    expect(await countOurs(a, 'old-')).toBe(0);
    for (const [tag, n] of [['keep-live', 50], ['keep-revoked', 50], ['keep-expired', 50], ['keep-idle', 20]] as const) {
      expect(await countOurs(a, tag)).toBe(n);
    }
    const [{ n: rotatedLeft }] = await a.query(
      `SELECT count(*)::int AS n FROM session_rotated_refresh_tokens r
        WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = r.session_id)`,
    );
    expect(rotatedLeft).toBe(0);
    await expect(cleanup.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
  });

  it('deletes the rotation records older than refreshTtl of the sessions it keeps, in batches', async () => {
    await seed(a, 'keep-revoked', 50, { created: -35, expires: 10, revoked: -29 });
    await seed(a, 'keep-live', 10, { created: -2, expires: 5, activity: -0.01 });
    // 25 rotations per kept revoked session, one a day from 35 to 11 days ago (1250 rows, all
    // older than 7 days), and 20 per live session in the last 2 days (200 rows, all younger).
    const rotations = async (tag: string, n: number, firstDay: number, stepDays: number) =>
      a.query(
        `INSERT INTO session_rotated_refresh_tokens (hash, session_id, rotated_at, access_hash)
         SELECT md5(s.id::text || i) || md5(i || s.id::text), s.id, $2::timestamptz + (i * $3::float8) * interval '1 day', md5(s.id::text || 'a' || i)
           FROM sessions s, generate_series(0, $4::int - 1) i WHERE s.user_id LIKE $1`,
        [`${PREFIX}${tag}-%`, at(firstDay), stepDays, n],
      );
    await rotations('keep-revoked', 25, -35, 1);
    await rotations('keep-live', 20, -1.95, 0.1);
    const { store, cleanup } = service(a);
    const deleteRotatedBefore = vi.spyOn(store, 'deleteRotatedBefore');

    await expect(cleanup.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 1250, auditDeleted: 0, skipped: false });

    expect(await batchSizes(deleteRotatedBefore)).toEqual([1000, 250]);
    expect(deleteRotatedBefore.mock.calls.every(([before]) => before.getTime() === T0 - REFRESH_TTL * 1000)).toBe(true);
    const [{ n: left, oldest }] = await a.query(
      `SELECT count(*)::int AS n, min(r.rotated_at) AS oldest FROM session_rotated_refresh_tokens r
         JOIN sessions s ON s.id = r.session_id WHERE s.user_id LIKE $1`,
      [`${PREFIX}%`],
    );
    expect(left).toBe(200);
    expect(new Date(oldest).getTime()).toBeGreaterThanOrEqual(T0 - REFRESH_TTL * 1000);
    expect(await countOurs(a)).toBe(60);
    await expect(cleanup.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
  });

  it('one instance at a time: of two concurrent passes on two DataSources one works, one is skipped', async () => {
    await seed(a, 'old-revoked', 1500, { created: -45, expires: 10, revoked: -40 });
    const one = service(a);
    const two = service(b);
    // Hold whichever pass wins the lock inside its first batch until the loser has answered.
    const gate = deferred();
    const entered = deferred();
    for (const s of [one, two]) {
      const deleteEnded = s.store.deleteEnded.bind(s.store);
      vi.spyOn(s.store, 'deleteEnded').mockImplementation(async (...args) => {
        entered.resolve();
        await gate.promise;
        return deleteEnded(...args);
      });
    }

    const passes = [one.cleanup.runOnce(), two.cleanup.runOnce()];
    const first = await Promise.race(passes);
    expect(first).toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: true });
    await entered.promise;

    // While the lock is held, live traffic is not blocked, and nobody else gets the lock.
    const probe = new Client({ connectionString: TEST_DATABASE_URL });
    await probe.connect();
    let results: Array<{ deleted: number; skipped: boolean }>;
    try {
      const started = Date.now();
      await seed(b, 'keep-live', 1, { created: -1, expires: 5 });
      expect(await countOurs(b, 'keep-live')).toBe(1);
      expect(Date.now() - started).toBeLessThan(1000);
      const held = await probe.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [LOCK_KEY]);
      expect(held.rows[0].ok).toBe(false);

      gate.resolve();
      results = await Promise.all(passes);
      expect(results.filter((r) => r.skipped)).toEqual([{ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: true }]);
      expect(results.filter((r) => !r.skipped)).toEqual([{ deleted: 1500, rotatedDeleted: 0, auditDeleted: 0, skipped: false }]);
      expect(await countOurs(a, 'old-')).toBe(0);

      // Released: another session can take it (and gives it back), and a later pass runs.
      const free = await probe.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [LOCK_KEY]);
      expect(free.rows[0].ok).toBe(true);
      await probe.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_KEY]);
    } finally {
      await probe.end();
    }
    const [{ n: leftover }] = await a.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
          AND ((classid::bigint << 32) | objid::bigint) = $1::bigint AND objsubid = 1`,
      [LOCK_KEY],
    );
    expect(leftover).toBe(0);

    vi.mocked(one.store.deleteEnded).mockRestore();
    vi.mocked(two.store.deleteEnded).mockRestore();
    await seed(a, 'old-revoked', 10, { created: -45, expires: 10, revoked: -40 });
    const loser = results[0].skipped ? one : two;
    await expect(loser.cleanup.runOnce()).resolves.toEqual({ deleted: 10, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
  });

  it('releases the lock when a pass fails, and the next pass runs', async () => {
    await seed(a, 'old-revoked', 5, { created: -45, expires: 10, revoked: -40 });
    const { store, cleanup } = service(a);
    vi.spyOn(store, 'deleteEnded').mockRejectedValueOnce(new Error('boom'));
    await expect(cleanup.runOnce()).rejects.toThrow('boom');
    const other = service(b);
    await expect(other.cleanup.runOnce()).resolves.toEqual({ deleted: 5, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
  });
});

describe('SessionCleanupService on embedded PGlite', () => {
  let ds: DataSource;

  beforeAll(async () => {
    // In memory (no dataDir): the lock does not care where PGlite keeps its files.
    const options: DataSourceOptions = { ...schema, migrationsRun: true, driver: new PGliteDriver().driver };
    ds = await new DataSource(options).initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('cleans up under the advisory lock on its one connection; overlapping passes are refused', async () => {
    await seedRetentionScenario(ds);
    const one = service(ds, 0);
    const two = service(ds, 0);

    const results = await Promise.all([one.cleanup.runOnce(), two.cleanup.runOnce()]);
    expect(results).toEqual([
      { deleted: 2750, rotatedDeleted: 0, auditDeleted: 0, skipped: false },
      { deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: true },
    ]);
    expect(await countOurs(ds)).toBe(170);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
    expect(n).toBe(0);
    await expect(two.cleanup.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
  });
});
