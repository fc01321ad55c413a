import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
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

  it('normalizes emails, refuses look-alikes and overflowing ones, and logs failed statements without parameters', async () => {
    const { http } = running;
    // Cyrillic о twice: the seeded admin's look-alike.
    const lookAlike = await http.post('/auth/register').send({ email: 'r\u043e\u043et@example.com', password: 'long enough password' });
    expect(lookAlike.status).toBe(409);
    expect(lookAlike.body).toEqual({ statusCode: 409, message: 'Email already registered', error: 'Conflict' });
    // 249 characters that lower-case to 280.
    const overflowing = `${'İ'.repeat(31)}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.${'g'.repeat(30)}.com`;
    await http.post('/auth/register').send({ email: overflowing, password: 'long enough password' }).expect(400);
    await login(http, '\uFF32\uFF2F\uFF2F\uFF34@\uFF25\uFF38\uFF21\uFF2D\uFF30\uFF2C\uFF25.\uFF23\uFF2F\uFF2D', 'embedded admin pw');

    const secret = 'embedded-secret-parameter';
    await expect(running.app.get(DataSource).query('SELECT $1::uuid', [secret])).rejects.toThrow();
    expect(logs.records()).toContainEqual(expect.objectContaining({ context: 'TypeORM', msg: 'query failed', sql: 'SELECT $1::uuid' }));
    expect(logs.lines.join('')).not.toContain(secret);
  });
});
