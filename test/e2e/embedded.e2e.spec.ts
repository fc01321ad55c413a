import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { login, registerAndLogin, RunningApp, startApp } from '../support/app-harness';

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

  beforeAll(async () => {
    running = await startApp(embeddedEnv);
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
    const admin = await login(running.http, 'root@example.com', 'embedded admin pw');
    await running.http.get('/admin/sessions').auth(admin.accessToken, { type: 'bearer' }).expect(200);
  });

  it('keeps sessions, and revocations, across a restart', async () => {
    const kept = await registerAndLogin(running.http);
    const ended = await login(running.http, kept.email, kept.password);
    await running.http.post('/auth/logout').auth(ended.accessToken, { type: 'bearer' }).expect(204);

    await running.close();
    running = await startApp(embeddedEnv);

    await running.http.get('/ping/secure').auth(kept.accessToken, { type: 'bearer' }).expect(200);
    await running.http.get('/ping/secure').auth(ended.accessToken, { type: 'bearer' }).expect(401);
    const refreshed = await running.http.post('/auth/refresh').send({ refreshToken: kept.refreshToken }).expect(200);
    expect(refreshed.body.sessionId).toBe(kept.sessionId);
    // The admin seed is idempotent.
    await login(running.http, 'root@example.com', 'embedded admin pw');
  });
});
