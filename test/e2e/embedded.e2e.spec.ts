import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapturedLogs, login, registerAndLogin, RunningApp, startApp } from '../support/app-harness';

/** No DATABASE_URL, no REDIS_URL, no SESSION_SECRET: what `npm start` does on a fresh machine. */
describe('embedded mode (PGlite on disk, in-process cache and counters)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'session-embedded-'));
  const embeddedEnv = {
    DATABASE_URL: undefined,
    REDIS_URL: undefined,
    SESSION_SECRET: undefined,
    DATA_DIR: dataDir,
    ADMIN_EMAIL: 'root@example.com',
    ADMIN_PASSWORD: 'embedded admin pw',
  };
  let running: RunningApp;
  let logs: CapturedLogs;

  /** The start-up lines about the session secret, in the app's JSON log. */
  const secretLines = () => logs.records().filter((line) => line.context === 'SessionSecret');
  /** No line the app logged holds the secret kept under DATA_DIR. */
  const expectSecretNeverLogged = () =>
    expect(logs.lines.join('')).not.toContain(readFileSync(join(dataDir, 'session-secret'), 'utf8'));

  beforeAll(async () => {
    logs = new CapturedLogs();
    running = await startApp(embeddedEnv, logs);
  });
  afterAll(async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the API, persisting the database and a generated secret under DATA_DIR', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
    expect(existsSync(join(dataDir, 'pg'))).toBe(true);
    expect(existsSync(join(dataDir, 'session-secret'))).toBe(true);
    expect(secretLines()).toEqual([
      expect.objectContaining({
        level: 40,
        msg: `SESSION_SECRET not set: generated a new secret in ${join(dataDir, 'session-secret')}; set SESSION_SECRET in production`,
      }),
    ]);
    expectSecretNeverLogged();
    const admin = await login(running.http, 'root@example.com', 'embedded admin pw');
    await running.http.get('/admin/sessions').auth(admin.accessToken, { type: 'bearer' }).expect(200);
  });

  it('keeps sessions, and revocations, across a restart', async () => {
    const kept = await registerAndLogin(running.http);
    const ended = await login(running.http, kept.email, kept.password);
    await running.http.post('/auth/logout').auth(ended.accessToken, { type: 'bearer' }).expect(204);

    await running.close();
    logs = new CapturedLogs();
    running = await startApp(embeddedEnv, logs);
    expect(secretLines()).toEqual([
      expect.objectContaining({ level: 30, msg: `SESSION_SECRET not set: using the secret kept in ${join(dataDir, 'session-secret')}` }),
    ]);
    expectSecretNeverLogged();

    await running.http.get('/ping/secure').auth(kept.accessToken, { type: 'bearer' }).expect(200);
    await running.http.get('/ping/secure').auth(ended.accessToken, { type: 'bearer' }).expect(401);
    const refreshed = await running.http.post('/auth/refresh').send({ refreshToken: kept.refreshToken }).expect(200);
    expect(refreshed.body.sessionId).toBe(kept.sessionId);
    // The admin seed is idempotent.
    await login(running.http, 'root@example.com', 'embedded admin pw');
  });
});
