import { login, registerAndLogin, resetDatabase, RunningApp, sql, startApp } from '../support/app-harness';

describe('POST /auth/password', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  it('204: the password changes and every other session of the user is revoked', async () => {
    const user = await registerAndLogin(running.http);
    const other = await login(running.http, user.email, user.password);
    await running.http
      .post('/auth/password')
      .auth(user.accessToken, { type: 'bearer' })
      .send({ currentPassword: user.password, newPassword: 'a brand new password' })
      .expect(204);
    await running.http.get('/ping/secure').auth(other.accessToken, { type: 'bearer' }).expect(401);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
    await running.http.post('/auth/login').send({ email: user.email, password: user.password }).expect(401);
    await login(running.http, user.email, 'a brand new password');
    const [row] = await sql<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [other.sessionId]);
    expect(row.revoked_reason).toBe('password_changed');
  });

  it('401 for a wrong current password, and nothing changes', async () => {
    const user = await registerAndLogin(running.http);
    const other = await login(running.http, user.email, user.password);
    const res = await running.http
      .post('/auth/password')
      .auth(user.accessToken, { type: 'bearer' })
      .send({ currentPassword: 'not the password', newPassword: 'a brand new password' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, message: 'Invalid credentials', error: 'Unauthorized' });
    await running.http.get('/ping/secure').auth(other.accessToken, { type: 'bearer' }).expect(200);
    await login(running.http, user.email, user.password);
  });

  it('401 when the session last logged in more than 10 minutes ago (a refresh does not count)', async () => {
    const user = await registerAndLogin(running.http);
    await sql(`UPDATE sessions SET authenticated_at = now() - interval '11 minutes' WHERE id = $1`, [user.sessionId]);
    const refreshed = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    const res = await running.http
      .post('/auth/password')
      .auth(refreshed.body.accessToken, { type: 'bearer' })
      .send({ currentPassword: user.password, newPassword: 'a brand new password' });
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('Recent authentication required');
    await login(running.http, user.email, user.password);
  });

  it('400 for a short new password or unknown fields; 401 without a session', async () => {
    const user = await registerAndLogin(running.http);
    await running.http
      .post('/auth/password')
      .auth(user.accessToken, { type: 'bearer' })
      .send({ currentPassword: user.password, newPassword: 'short' })
      .expect(400);
    await running.http
      .post('/auth/password')
      .auth(user.accessToken, { type: 'bearer' })
      .send({ currentPassword: user.password, newPassword: 'long enough pw', roles: ['admin'] })
      .expect(400);
    await running.http.post('/auth/password').send({ currentPassword: 'x', newPassword: 'long enough pw' }).expect(401);
  });
});
