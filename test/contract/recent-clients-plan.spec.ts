import { randomUUID } from 'node:crypto';
import { TypeOrmSessionStore } from '../../src/session/adapters/typeorm/typeorm-session.store';
import { OpenedDataSource, openPostgres } from './session-schema';

/**
 * The new-device check's query (`TypeOrmSessionStore.recentClients`) is one range of
 * `sessions_user_created_idx`, never a scan of every session of every user. Checked with
 * sequential scans off, as a near-empty test table would make the planner prefer one.
 */
describe('recentClients query plan (PostgreSQL)', () => {
  let opened: OpenedDataSource;

  beforeAll(async () => {
    opened = await openPostgres();
  });
  afterAll(() => opened?.close());

  it('reads the index on (user_id, created_at), newest first, and stops at the limit', async () => {
    // The statement the store runs, as it runs it.
    const query = vi.spyOn(opened.dataSource, 'query');
    await new TypeOrmSessionStore(opened.dataSource).recentClients({ userId: 'user-1', since: new Date(), limit: 50, exceptId: randomUUID() });
    const [sql, params] = query.mock.calls[0] as [string, unknown[]];
    query.mockRestore();
    const runner = opened.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query('SET LOCAL enable_seqscan = off');
      const rows: Array<{ 'QUERY PLAN': string }> = await runner.query(`EXPLAIN ${sql}`, params);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/^Limit/);
      expect(plan).toContain('Index Scan Backward using sessions_user_created_idx');
      expect(plan).not.toContain('Sort');
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });
});
