import { registerAndLogin, resetDatabase, RunningApp, sql, startApp } from '../support/app-harness';

/** RFC 9700 §4.14: refresh token rotation with reuse detection, on real PostgreSQL. */
describe('refresh token rotation (PostgreSQL)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  it('10 concurrent refreshes of one token all get the same successor; one rotation; the session stays', async () => {
    const user = await registerAndLogin(running.http);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(results.map((r) => r.body.refreshToken)).size).toBe(1);
    expect(new Set(results.map((r) => r.body.accessToken)).size).toBe(1);
    const [row] = await sql<{ version: number; revoked_at: Date | null }>(
      'SELECT version, revoked_at FROM sessions WHERE id = $1',
      [user.sessionId],
    );
    expect(row).toEqual({ version: 2, revoked_at: null });
    await running.http.get('/ping/secure').auth(results[0].body.accessToken, { type: 'bearer' }).expect(200);
  });

  it('a refresh token two rotations back is reuse: 401, and the whole session is revoked', async () => {
    const user = await registerAndLogin(running.http);
    const second = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    const third = await running.http.post('/auth/refresh').send({ refreshToken: second.body.refreshToken }).expect(200);
    await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    await running.http.get('/ping/secure').auth(third.body.accessToken, { type: 'bearer' }).expect(401);
    await running.http.post('/auth/refresh').send({ refreshToken: third.body.refreshToken }).expect(401);
    const [row] = await sql<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [user.sessionId]);
    expect(row.revoked_reason).toBe('reuse_detected');
  });

  it('with SESSION_REFRESH_GRACE=0 the just-rotated token is reuse at once', async () => {
    const strict = await startApp({ SESSION_REFRESH_GRACE: '0' });
    try {
      const user = await registerAndLogin(strict.http);
      const next = await strict.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      await strict.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      await strict.http.get('/ping/secure').auth(next.body.accessToken, { type: 'bearer' }).expect(401);
    } finally {
      await strict.close();
    }
  });
});
