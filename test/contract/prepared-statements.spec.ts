import { DataSource } from 'typeorm';
import { PreparedStatements } from '../../src/session/adapters/typeorm/prepared-statements';
import { SessionStoreUnavailableError } from '../../src/session/errors/session.errors';
import { recordStatements } from '../support/pg-statements';
import { OpenedDataSource, openPostgres } from './session-schema';

/**
 * The request paths' statements run as named prepared statements on node-postgres' pool: once
 * parsed per connection, still correct after a migration changed what they return, and plain
 * `dataSource.query` where the pool cannot keep them.
 */
describe('PreparedStatements (PostgreSQL)', () => {
  let opened: OpenedDataSource;

  beforeAll(async () => {
    opened = await openPostgres();
    await opened.dataSource.query('DROP TABLE IF EXISTS prepared_probe');
    await opened.dataSource.query('CREATE TABLE prepared_probe (id int PRIMARY KEY, name text)');
    await opened.dataSource.query(`INSERT INTO prepared_probe VALUES (1, 'one'), (2, 'two')`);
  });
  afterAll(async () => {
    await opened?.dataSource.query('DROP TABLE IF EXISTS prepared_probe');
    await opened?.close();
  });

  it('sends a named statement through the pool, the same name for the same SQL, and returns its rows', async () => {
    const statements = new PreparedStatements(opened.dataSource);
    const recorder = recordStatements();
    const names: string[] = [];
    const pool = (opened.dataSource.driver as unknown as { master: { query: (config: unknown) => unknown } }).master;
    const poolQuery = vi.spyOn(pool, 'query');
    const dataSourceQuery = vi.spyOn(opened.dataSource, 'query');
    try {
      recorder.on = true;
      for (let i = 0; i < 3; i++) {
        expect(await statements.rows('SELECT name FROM prepared_probe WHERE id = $1', [1])).toEqual([{ name: 'one' }]);
      }
      expect(await statements.rows('SELECT name FROM prepared_probe WHERE id = $1 OR id = $2 ORDER BY id', [1, 2])).toEqual([{ name: 'one' }, { name: 'two' }]);
      recorder.on = false;
      for (const [config] of poolQuery.mock.calls) names.push((config as { name: string }).name);
      expect(dataSourceQuery).not.toHaveBeenCalled();
      expect(recorder.texts).toHaveLength(4);
    } finally {
      recorder.restore();
      poolQuery.mockRestore();
      dataSourceQuery.mockRestore();
    }
    expect(names.slice(0, 3).every((name) => name === names[0])).toBe(true);
    expect(names[3]).not.toBe(names[0]);
    expect(names[0]).toMatch(/^nsm_0_[0-9a-f]{16}$/);
  });

  it('prepares a statement again under a new name when a migration changed the columns it returns', async () => {
    const statements = new PreparedStatements(opened.dataSource);
    // One connection in the pool would make this certain; with several, run it often enough that
    // the connections which prepared it are reused.
    for (let i = 0; i < 10; i++) await statements.rows('SELECT * FROM prepared_probe WHERE id = $1', [2]);
    await opened.dataSource.query('ALTER TABLE prepared_probe ADD COLUMN added int DEFAULT 7');
    try {
      for (let i = 0; i < 10; i++) {
        expect(await statements.rows('SELECT * FROM prepared_probe WHERE id = $1', [2])).toEqual([{ id: 2, name: 'two', added: 7 }]);
      }
    } finally {
      await opened.dataSource.query('ALTER TABLE prepared_probe DROP COLUMN added');
    }
  });

  it('falls back to dataSource.query when told not to prepare, and on a DataSource that is not initialized', async () => {
    const unprepared = new PreparedStatements(opened.dataSource, false);
    const dataSourceQuery = vi.spyOn(opened.dataSource, 'query');
    try {
      expect(await unprepared.rows('SELECT name FROM prepared_probe WHERE id = $1', [2])).toEqual([{ name: 'two' }]);
      expect(dataSourceQuery).toHaveBeenCalledTimes(1);
    } finally {
      dataSourceQuery.mockRestore();
    }
    // Not initialized: no pool to prepare on; dataSource.query says what is wrong.
    const closed = new DataSource({ type: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' });
    const closedQuery = vi.spyOn(closed, 'query');
    await expect(new PreparedStatements(closed).rows('SELECT 1', [])).rejects.toThrow();
    expect(closedQuery).toHaveBeenCalledTimes(1);
  });

  it('an unreachable database is SessionStoreUnavailableError (503), a wrong statement its own error', async () => {
    const statements = new PreparedStatements(opened.dataSource);
    await expect(statements.rows('SELECT nope FROM prepared_probe', [])).rejects.toThrow(/nope/);
    const pool = (opened.dataSource.driver as unknown as { master: { query: (config: unknown) => unknown } }).master;
    const refused = vi.spyOn(pool, 'query').mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    try {
      await expect(statements.rows('SELECT 1', [])).rejects.toBeInstanceOf(SessionStoreUnavailableError);
    } finally {
      refused.mockRestore();
    }
  });
});
