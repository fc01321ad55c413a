import { Redis } from 'ioredis';
import { sessionCacheKey } from '../../src/session/adapters/redis/redis-cache.tier';
import { hashToken } from '../../src/session/tokens';
import { login, registerAndLogin, resetDatabase, RunningApp, sql, startApp } from '../support/app-harness';
import { recordStatements, type StatementRecorder } from '../support/pg-statements';

/**
 * What one refresh costs the stores (issue 15): the statements it sends PostgreSQL, the commands
 * it sends Redis, and the indexes the rotation's UPDATE writes an entry into (no UPDATE of a
 * session's token hashes can be HOT, so a new row version enters every index whose predicate it
 * matches). `npm run bench:rotation` measures the same in WAL records and buffers.
 */
/**
 * Statements the app's background work sends, which may land while a request is counted on a busy
 * machine: the audit trail's batch writes, activity written behind, the cache's reconciliation.
 */
const background = (text: string) => /session_audit|\) AS revoked|unnest\(\$1::uuid\[\]/.test(text);

describe('the cost of a refresh', () => {
  let running: RunningApp;
  let statements: StatementRecorder;
  const commands: string[] = [];
  let counting = false;
  const sendCommand = Redis.prototype.sendCommand;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
    statements = recordStatements();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    Redis.prototype.sendCommand = function (this: Redis, command: any, ...rest: any[]) {
      if (counting) commands.push(`${String(command.name).toUpperCase()} ${String(command.args?.[0] ?? '')}`.trim());
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (sendCommand as any).call(this, command, ...rest);
    } as typeof sendCommand;
  });
  afterAll(async () => {
    statements?.restore();
    Redis.prototype.sendCommand = sendCommand;
    await running.close();
  });

  it('one SQL statement (the rotation, with the insert of the rotated-away hash), no locking read; the replaced access token marked in Redis', async () => {
    const user = await registerAndLogin(running.http);
    await new Promise((r) => setTimeout(r, 300)); // the login's audit batch and activity are written
    statements.texts.length = 0;
    commands.length = 0;
    counting = statements.on = true;
    await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    counting = statements.on = false;
    // The module's one statement, and the app's check that the user still exists (its
    // `CredentialsVerifier.findById`, through TypeORM's repository).
    const ofRefresh = statements.texts.filter((text) => !background(text));
    const rotation = ofRefresh.filter((text) => !/FROM "users"/.test(text));
    expect(ofRefresh.length - rotation.length).toBe(1);
    expect(rotation).toHaveLength(1);
    expect(rotation[0]).toMatch(/^WITH rotated AS \( UPDATE sessions SET/);
    expect(rotation[0]).toContain('INSERT INTO session_rotated_refresh_tokens');
    expect(rotation[0]).not.toMatch(/FOR UPDATE/);
    // The refresh's own: the tombstone of the replaced access hash and its removal from the
    // user's set, and the rate limiter's script. Background commands (reconciliation rounds,
    // heartbeats, the rate limiter's batches) may land meanwhile on a busy machine: only commands
    // on this session's keys are the refresh's.
    const tombstone = sessionCacheKey('', hashToken(user.accessToken));
    expect(commands.filter((c) => c.startsWith('SET ') && c.endsWith(tombstone))).toHaveLength(1);
    expect(commands.filter((c) => c.startsWith('SREM ') && c.endsWith(`u:${user.userId}`))).toHaveLength(1);
    expect(commands.filter((c) => c.endsWith(tombstone) || c.endsWith(`u:${user.userId}`))).toHaveLength(2);
    expect(commands.filter((c) => /^EVAL(SHA)? /.test(c)).length).toBeGreaterThanOrEqual(1);
  });

  it('a login: three SQL statements (the user, the insert, the eviction with the new-device history) and two Redis round trips (the rate limit, the failure check), none of them a reset', async () => {
    const user = await registerAndLogin(running.http);
    await new Promise((r) => setTimeout(r, 300)); // the first login's audit batch and activity are written
    statements.texts.length = 0;
    commands.length = 0;
    counting = statements.on = true;
    await login(running.http, user.email, user.password);
    counting = statements.on = false;
    const ofLogin = statements.texts.filter((text) => !background(text));
    const own = ofLogin.filter((text) => !/FROM "users"/.test(text));
    expect(ofLogin.length - own.length).toBe(1);
    expect(own).toHaveLength(2);
    expect(own[0]).toMatch(/^WITH replaced AS \( UPDATE sessions SET/);
    expect(own[1]).toMatch(/^WITH evicted AS \( ?UPDATE sessions SET/);
    expect(own[1]).toContain('json_agg');
    // The login rate limit (counted exactly, in Redis: one script) and the failure backoff's
    // check; no reset of a failure count that is not there. Background commands (reconciliation
    // rounds, heartbeats, the rate limiter's batches) may land too: only these are the login's.
    expect(commands.filter((c) => c.startsWith('HMGET '))).toHaveLength(1);
    expect(commands.filter((c) => c.startsWith('DEL '))).toEqual([]);
    expect(commands.filter((c) => /^EVAL(SHA)? /.test(c)).length).toBeGreaterThanOrEqual(1);
  });

  it("the rotation's new row version enters 8 indexes of sessions (9 with a device id), the remembered hash 3", async () => {
    const user = await registerAndLogin(running.http);
    const entered = async (table: string, where: string, params: unknown[]) => {
      const indexes = await sql<{ name: string; pred: string | null }>(
        `SELECT c.relname AS name, pg_get_expr(i.indpred, i.indrelid) AS pred
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass ORDER BY 1`,
        [table],
      );
      const names: string[] = [];
      for (const index of indexes) {
        const rows = await sql(`SELECT 1 FROM ${table} WHERE ${where} AND ${index.pred ? `(${index.pred})` : 'true'}`, params);
        if (rows.length > 0) names.push(index.name);
      }
      return names;
    };
    await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    expect(await entered('sessions', 'id = $1', [user.sessionId])).toEqual([
      'sessions_access_hash_key',
      'sessions_created_at_idx',
      'sessions_open_activity_idx',
      'sessions_open_expires_idx',
      'sessions_pkey',
      'sessions_refresh_hash_key',
      'sessions_user_activity_live_idx',
      'sessions_user_created_idx', // the new-device check's lookback
    ]);
    expect(await entered('session_rotated_refresh_tokens', 'session_id = $1', [user.sessionId])).toEqual([
      'session_rotated_refresh_tokens_pkey',
      'session_rotated_refresh_tokens_rotated_at_idx', // every rotation's row has an access hash: the partial index held it too
      'session_rotated_refresh_tokens_session_idx',
    ]);
  });
});
