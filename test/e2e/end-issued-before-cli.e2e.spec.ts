import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { registerAndLogin, resetDatabase, RunningApp, sql, startApp, TEST_SECRET } from '../support/app-harness';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env';
import { sleep } from '../support/timing';

const ROOT = resolve(__dirname, '../..');
const BEARER = { type: 'bearer' } as const;
/** ts-node compiles the app before it starts: give each run time. */
const RUN_TIMEOUT = 120_000;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run sessions:end-issued-before -- <args>`, as an operator types it, with this environment. */
function endIssuedBefore(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile('npm', ['run', '-s', 'sessions:end-issued-before', '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: RUN_TIMEOUT }, (error, stdout, stderr) => {
      done({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** The command for operators who cannot reach the HTTP API, against the same PostgreSQL and Redis as a running instance. */
describe('npm run sessions:end-issued-before', () => {
  let running: RunningApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
    env = {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SESSION_SECRET: TEST_SECRET,
      REDIS_KEY_PREFIX: running.env.REDIS_KEY_PREFIX,
    };
  });
  afterAll(() => running.close());

  it(
    'ends the sessions issued before the moment and prints how many; a running instance refuses them at once',
    async () => {
      const older = await registerAndLogin(running.http);
      await running.http.get('/ping/secure').auth(older.accessToken, BEARER).expect(200); // cached by the instance
      await sleep(5);
      const moment = new Date();
      await sleep(5);
      const newer = await registerAndLogin(running.http);

      const run = await endIssuedBefore([moment.toISOString()], env);
      expect(run).toMatchObject({ status: 0, stdout: `Ended 1 session issued before ${moment.toISOString()} (PostgreSQL at 127.0.0.1:5432).\n` });

      await running.http.get('/ping/secure').auth(older.accessToken, BEARER).expect(401);
      await running.http.post('/auth/refresh').send({ refreshToken: older.refreshToken }).expect(401);
      await running.http.get('/ping/secure').auth(newer.accessToken, BEARER).expect(200);
      const rows = await sql<{ id: string; revoked_reason: string | null }>('SELECT id, revoked_reason FROM sessions WHERE id = ANY($1::uuid[])', [
        [older.sessionId, newer.sessionId],
      ]);
      expect(Object.fromEntries(rows.map((r) => [r.id, r.revoked_reason]))).toEqual({ [older.sessionId]: 'not_before', [newer.sessionId]: null });
    },
    RUN_TIMEOUT,
  );

  it(
    'exits 2 with the usage for a missing, malformed or future moment, and ends nothing',
    async () => {
      const user = await registerAndLogin(running.http);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      const runs = await Promise.all([[], ['2026-12-01T10:00:00'], ['yesterday'], [future]].map((args) => endIssuedBefore(args, env)));
      expect(runs.map((r) => [r.status, r.stdout])).toEqual(runs.map(() => [2, '']));
      expect(runs[0].stderr).toMatch(/^No moment given\.\nUsage: npm run sessions:end-issued-before -- <moment>/);
      expect(runs[1].stderr).toContain('Not one moment with a time zone: 2026-12-01T10:00:00');
      expect(runs[3].stderr).toBe('before must not be in the future\n');
      await running.http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
    },
    RUN_TIMEOUT,
  );
});
