import { randomBytes } from 'node:crypto';
import { TypeOrmSessionStore } from '../../src/session/adapters/typeorm/typeorm-session.store';
import { OpenedDataSource, openPostgres } from './session-schema';

const DAY_MS = 86_400_000;

/**
 * Both readers of `session_rotated_refresh_tokens` by time read one range of
 * `session_rotated_refresh_tokens_rotated_at_idx`: the cleanup's prune
 * (`TypeOrmSessionStore.deleteRotatedBefore`), also when most rows are old enough (the first
 * passes after the upgrade, where a LIMIT over a sequential scan looks cheap to the planner), and
 * the reconciliation's `revokedAccessSince`. Planned on 20,000 rows (70% before the cut-off) that
 * a rolled-back transaction inserts and analyzes, with sequential scans allowed.
 */
describe('rotated refresh-token query plans (PostgreSQL)', () => {
  let opened: OpenedDataSource;

  beforeAll(async () => {
    opened = await openPostgres();
  });
  afterAll(() => opened?.close());

  /** The statement a store call sends, as it sends it (the call itself matches no row). */
  async function statementOf(call: (store: TypeOrmSessionStore) => Promise<unknown>): Promise<string> {
    const query = vi.spyOn(opened.dataSource, 'query');
    try {
      await call(new TypeOrmSessionStore(opened.dataSource));
      return (query.mock.calls[0] as [string])[0];
    } finally {
      query.mockRestore();
    }
  }

  it('the prune and the reconciliation read the index on (rotated_at, access_hash)', async () => {
    const now = Date.UTC(2031, 0, 1);
    const tag = `plan-${randomBytes(4).toString('hex')}-`;
    const prune = await statementOf((store) => store.deleteRotatedBefore(new Date(0), 1000));
    const reconcile = await statementOf((store) => store.revokedAccessSince(new Date(now + 365 * DAY_MS), 1000));
    const runner = opened.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query(
        `INSERT INTO sessions (id, user_id, roles, access_hash, refresh_hash, access_expires_at, expires_at,
           absolute_expires_at, created_at, authenticated_at, last_activity_at)
         SELECT gen_random_uuid(), $2 || g, '{user}', md5($2 || 'a' || g) || md5('A' || g), md5($2 || 'r' || g) || md5('R' || g),
                $1, $1, $1, $1, $1, $1
           FROM generate_series(1, 200) g`,
        [new Date(now), tag],
      );
      // 100 rotations per session, one every 2.4 hours over the last 10 days, in session order
      // (old and recent rows mixed on every page).
      await runner.query(
        `INSERT INTO session_rotated_refresh_tokens (hash, session_id, rotated_at, access_hash)
         SELECT md5(s.id::text || i) || md5(i || s.id::text), s.id, $1::timestamptz - i * interval '144 minutes', md5(s.id::text || 'x' || i)
           FROM sessions s, generate_series(0, 99) i WHERE s.user_id LIKE $2 || '%'`,
        [new Date(now), tag],
      );
      await runner.query('ANALYZE sessions, session_rotated_refresh_tokens');
      const plan = async (sql: string, params: unknown[]) =>
        ((await runner.query(`EXPLAIN ${sql}`, params)) as Array<{ 'QUERY PLAN': string }>).map((row) => row['QUERY PLAN']).join('\n');

      const prunePlan = await plan(prune, [new Date(now - 3 * DAY_MS), 1000]);
      expect(prunePlan).toMatch(/Index Scan using session_rotated_refresh_tokens_rotated_at_idx on session_rotated_refresh_tokens/);
      expect(prunePlan).not.toContain('Seq Scan');
      expect(prunePlan).not.toContain('Sort');
      expect(prunePlan).toContain('Tid Scan on session_rotated_refresh_tokens');

      const reconcilePlan = await plan(reconcile, [new Date(now - 5 * 60_000), 1000, null, null]);
      expect(reconcilePlan).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) session_rotated_refresh_tokens_rotated_at_idx\b/);
      expect(reconcilePlan).not.toMatch(/Seq Scan on session_rotated_refresh_tokens/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });
});
