import { randomBytes } from 'node:crypto';
import { SqlTableLegacySource } from '../../src/session/legacy/sql-table.legacy-source';
import { SessionConfigurationError } from '../../src/session/errors/session-configuration.error';
import { OpenedDataSource, openPostgres } from './session-schema';

/**
 * The legacy-table adapter against PostgreSQL, on a table of the seeds' shape (a raw token column,
 * a user id, an expiry, an active flag) and one with other column names.
 */
describe('SqlTableLegacySource on PostgreSQL', () => {
  let opened: OpenedDataSource;
  const table = `legacy_sessions_${randomBytes(3).toString('hex')}`;
  const bearer = (token: string) => ({ method: 'GET', headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    opened = await openPostgres();
    await opened.dataSource.query(
      `CREATE TABLE ${table} (id serial PRIMARY KEY, token varchar(255) NOT NULL, user_id integer NOT NULL,
        expires_at timestamptz, is_active boolean NOT NULL DEFAULT true)`,
    );
    await opened.dataSource.query(
      `INSERT INTO ${table} (token, user_id, expires_at, is_active) VALUES
        ('live-token', 7, now() + interval '1 day', true),
        ('no-expiry', 8, NULL, true),
        ('expired', 9, now() - interval '1 second', true),
        ('ended', 10, now() + interval '1 day', false)`,
    );
  });
  afterAll(async () => {
    await opened.dataSource.query(`DROP TABLE ${table}`);
    await opened.close();
  });

  const source = () => new SqlTableLegacySource({ dataSource: opened.dataSource, table });

  it('finds the user of a live token presented as a bearer header; expired, ended, unknown and absent tokens are nothing', async () => {
    const s = source();
    expect(await s.find(bearer('live-token'))).toEqual({ key: 'live-token', userId: '7' });
    expect(await s.find(bearer('no-expiry'))).toEqual({ key: 'no-expiry', userId: '8' });
    for (const token of ['expired', 'ended', 'unknown', "' OR 1=1 --"]) expect(await s.find(bearer(token))).toBeNull();
    expect(await s.find({ method: 'GET', headers: {} })).toBeNull();
    expect(s.presents({ method: 'GET', headers: {} })).toBe(false);
  });

  it('never looks up a token of this module (sa_…), nor one longer than the column could hold', async () => {
    const s = source();
    expect(s.presents(bearer(`sa_${'A'.repeat(64)}`))).toBe(false);
    expect(s.presents(bearer('x'.repeat(513)))).toBe(false);
    expect(s.presents(bearer('live-token'))).toBe(true);
  });

  it('retiring ends the token after the grace, never later than it would have, and counts what is left', async () => {
    const s = source();
    expect(await s.countWaiting()).toBe(2);
    await s.retire({ key: 'live-token', userId: '7' }, 1);
    expect(await s.find(bearer('live-token'))).not.toBeNull(); // still within the grace
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await s.find(bearer('live-token'))).toBeNull();
    const [row] = await opened.dataSource.query(`SELECT expires_at FROM ${table} WHERE token = 'no-expiry'`);
    expect(row.expires_at).toBeNull();
    expect(await s.countWaiting()).toBe(1);
  });

  it('takes other column names, and refuses a name that is not an SQL identifier', () => {
    expect(() => new SqlTableLegacySource({ dataSource: opened.dataSource, table: 'sessions; DROP TABLE users' })).toThrow(SessionConfigurationError);
    expect(() => new SqlTableLegacySource({ dataSource: opened.dataSource, tokenColumn: 'token"' })).toThrow(SessionConfigurationError);
    expect(() => new SqlTableLegacySource({ dataSource: opened.dataSource, table: 'public.user_sessions', activeColumn: null })).not.toThrow();
  });
});
