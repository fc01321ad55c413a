import { createHmac } from 'node:crypto';
import { registerAndLogin, resetDatabase, RunningApp, sql, startApp, TEST_SECRET } from '../support/app-harness';

/**
 * What a holder of `SESSION_SECRET` and an old refresh token computed as its successor before
 * issue 11 (finding 7, SECURITY.md §5.6): HMAC-SHA256(key, presented), tagged like any token.
 */
function keyOnlySuccessor(kind: 'access' | 'refresh', key: string, from: string): string {
  const prefix = kind === 'access' ? 'sa' : 'sr';
  const random = createHmac('sha256', key).update(`derive|${prefix}|`).update(from).digest();
  const tag = createHmac('sha256', key).update(prefix).update(random).digest().subarray(0, 16);
  return `${prefix}_${Buffer.concat([random, tag]).toString('base64url')}`;
}

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

  it('SESSION_SECRET plus an old refresh token no longer computes the current pair; the session stays', async () => {
    const user = await registerAndLogin(running.http);
    const second = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    const third = await running.http.post('/auth/refresh').send({ refreshToken: second.body.refreshToken }).expect(200);
    // The attacker knows the key and both old refresh tokens, and derives as the old code did.
    for (const old of [user.refreshToken, second.body.refreshToken]) {
      const access = keyOnlySuccessor('access', TEST_SECRET, old);
      const refresh = keyOnlySuccessor('refresh', TEST_SECRET, old);
      expect([second.body.accessToken, third.body.accessToken]).not.toContain(access);
      expect([second.body.refreshToken, third.body.refreshToken]).not.toContain(refresh);
      await running.http.get('/ping/secure').auth(access, { type: 'bearer' }).expect(401);
      await running.http.post('/auth/refresh').send({ refreshToken: refresh }).expect(401);
    }
    // Each rotation kept its own secret; the current pair is untouched and works.
    const [row] = await sql<{ rotation_secret: string | null; revoked_at: Date | null }>(
      'SELECT rotation_secret, revoked_at FROM sessions WHERE id = $1',
      [user.sessionId],
    );
    expect(row.rotation_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(row.revoked_at).toBeNull();
    await running.http.get('/ping/secure').auth(third.body.accessToken, { type: 'bearer' }).expect(200);
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
