import { login, registerAndLogin, resetDatabase, RunningApp, startApp } from '../support/app-harness';

describe('own sessions: GET/DELETE /auth/sessions', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  it('GET lists the live sessions, most recently active first, with device fields and the current one marked', async () => {
    const first = await registerAndLogin(running.http);
    const second = await running.http
      .post('/auth/login')
      .set('User-Agent', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1')
      .send({ email: first.email, password: first.password, deviceName: 'My phone' })
      .expect(200);
    const res = await running.http.get('/auth/sessions').auth(second.body.accessToken, { type: 'bearer' }).expect(200);
    expect(res.body).toHaveLength(2);
    expect(res.body[0]).toEqual({
      id: second.body.sessionId,
      current: true,
      online: false,
      createdAt: expect.any(String),
      lastActivityAt: expect.any(String),
      expiresAt: expect.any(String),
      ipAddress: expect.any(String),
      userAgent: expect.stringContaining('iPhone'),
      deviceName: 'My phone',
      deviceType: 'mobile',
    });
    expect(res.body[1]).toMatchObject({ id: first.sessionId, current: false, deviceName: 'Chrome on macOS', deviceType: 'desktop' });
    expect(JSON.stringify(res.body)).not.toContain(first.accessToken);
  });

  it('X-Device-Name / X-Device-Type name the device', async () => {
    const user = await registerAndLogin(running.http);
    const res = await running.http
      .post('/auth/login')
      .set('X-Device-Name', 'CI runner')
      .set('X-Device-Type', 'server')
      .send({ email: user.email, password: user.password })
      .expect(200);
    const list = await running.http.get('/auth/sessions').auth(res.body.accessToken, { type: 'bearer' }).expect(200);
    expect(list.body[0]).toMatchObject({ deviceName: 'CI runner', deviceType: 'server' });
  });

  it('GET is 401 without a session', async () => {
    await running.http.get('/auth/sessions').expect(401);
  });

  it('DELETE /auth/sessions/:id revokes one of the caller’s sessions (204)', async () => {
    const a = await registerAndLogin(running.http);
    const b = await login(running.http, a.email, a.password);
    await running.http.delete(`/auth/sessions/${b.sessionId}`).auth(a.accessToken, { type: 'bearer' }).expect(204);
    await running.http.get('/ping/secure').auth(b.accessToken, { type: 'bearer' }).expect(401);
    await running.http.get('/ping/secure').auth(a.accessToken, { type: 'bearer' }).expect(200);
  });

  it('DELETE /auth/sessions/:id is 404 for another user’s session, which stays alive', async () => {
    const mine = await registerAndLogin(running.http);
    const theirs = await registerAndLogin(running.http);
    const res = await running.http.delete(`/auth/sessions/${theirs.sessionId}`).auth(mine.accessToken, { type: 'bearer' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, message: 'Session not found', error: 'Not Found' });
    await running.http.get('/ping/secure').auth(theirs.accessToken, { type: 'bearer' }).expect(200);
  });

  it('DELETE /auth/sessions/:id is 404 for an unknown or already revoked id', async () => {
    const user = await registerAndLogin(running.http);
    const other = await login(running.http, user.email, user.password);
    await running.http.delete('/auth/sessions/6f1c1f5e-0000-4000-8000-000000000000').auth(user.accessToken, { type: 'bearer' }).expect(404);
    await running.http.delete(`/auth/sessions/${other.sessionId}`).auth(user.accessToken, { type: 'bearer' }).expect(204);
    await running.http.delete(`/auth/sessions/${other.sessionId}`).auth(user.accessToken, { type: 'bearer' }).expect(404);
  });

  it('DELETE /auth/sessions/:id is 400 for a malformed id and 401 without a session', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.delete('/auth/sessions/not-a-uuid').auth(user.accessToken, { type: 'bearer' }).expect(400);
    await running.http.delete(`/auth/sessions/${user.sessionId}`).expect(401);
  });

  it('DELETE /auth/sessions revokes every other session and keeps the current one', async () => {
    const a = await registerAndLogin(running.http);
    const b = await login(running.http, a.email, a.password);
    const c = await login(running.http, a.email, a.password);
    const res = await running.http.delete('/auth/sessions').auth(c.accessToken, { type: 'bearer' }).expect(200);
    expect(res.body).toEqual({ revoked: 2 });
    await running.http.get('/ping/secure').auth(a.accessToken, { type: 'bearer' }).expect(401);
    await running.http.get('/ping/secure').auth(b.accessToken, { type: 'bearer' }).expect(401);
    await running.http.get('/ping/secure').auth(c.accessToken, { type: 'bearer' }).expect(200);
    await running.http.delete('/auth/sessions').expect(401);
  });
});
