import { login, registerAndLogin, resetDatabase, RunningApp, startApp, uniqueEmail } from '../support/app-harness';

describe('admin routes', () => {
  let running: RunningApp;
  let admin: { accessToken: string };
  const adminEmail = uniqueEmail('Admin');

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({ ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: 'admin password 1' });
    admin = await login(running.http, adminEmail.toLowerCase(), 'admin password 1');
  });
  afterAll(() => running.close());

  const asAdmin = (req: import('supertest').Test) => req.auth(admin.accessToken, { type: 'bearer' });

  it('the seeded admin has role admin', async () => {
    const res = await asAdmin(running.http.get('/auth/me')).expect(200);
    expect(res.body.user.roles).toEqual(['admin']);
  });

  it('GET /admin/sessions pages live sessions with their user id', async () => {
    const user = await registerAndLogin(running.http);
    await login(running.http, user.email, user.password);
    const res = await asAdmin(running.http.get('/admin/sessions')).expect(200);
    expect(res.body).toMatchObject({ page: 1, limit: 20 });
    expect(res.body.total).toBeGreaterThanOrEqual(3);
    expect(res.body.items[0]).toEqual({
      id: expect.any(String),
      userId: expect.any(String),
      online: false,
      createdAt: expect.any(String),
      lastActivityAt: expect.any(String),
      expiresAt: expect.any(String),
      ipAddress: expect.any(String),
      userAgent: expect.anything(),
      deviceName: expect.anything(),
      deviceType: expect.anything(),
    });
  });

  it('GET /admin/sessions?userId= filters by user, with page and limit', async () => {
    const user = await registerAndLogin(running.http);
    await login(running.http, user.email, user.password);
    await login(running.http, user.email, user.password);
    const page1 = await asAdmin(running.http.get(`/admin/sessions?userId=${user.userId}&limit=2&page=1`)).expect(200);
    expect(page1.body.total).toBe(3);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.items.every((s: { userId: string }) => s.userId === user.userId)).toBe(true);
    const page2 = await asAdmin(running.http.get(`/admin/sessions?userId=${user.userId}&limit=2&page=2`)).expect(200);
    expect(page2.body).toMatchObject({ total: 3, page: 2, limit: 2 });
    expect(page2.body.items).toHaveLength(1);
  });

  it('GET /admin/sessions is 400 for a bad query', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'page=0', 'page=-1', 'unknown=1']) {
      const res = await asAdmin(running.http.get(`/admin/sessions?${query}`));
      expect(res.status).toBe(400);
    }
  });

  it('admin routes are 401 without a session and 403 for a non-admin', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.get('/admin/sessions').expect(401);
    const res = await running.http.get('/admin/sessions').auth(user.accessToken, { type: 'bearer' });
    expect(res.status).toBe(403);
    await running.http.delete(`/admin/sessions/${user.sessionId}`).auth(user.accessToken, { type: 'bearer' }).expect(403);
    await running.http.delete(`/admin/users/${user.userId}/sessions`).expect(401);
    await running.http.delete(`/admin/users/${user.userId}/sessions`).auth(user.accessToken, { type: 'bearer' }).expect(403);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
  });

  it('DELETE /admin/sessions/:id revokes any session (204), 404 when not live, 400 when malformed', async () => {
    const user = await registerAndLogin(running.http);
    await asAdmin(running.http.delete(`/admin/sessions/${user.sessionId}`)).expect(204);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(401);
    await asAdmin(running.http.delete(`/admin/sessions/${user.sessionId}`)).expect(404);
    await asAdmin(running.http.delete('/admin/sessions/6f1c1f5e-0000-4000-8000-000000000000')).expect(404);
    await asAdmin(running.http.delete('/admin/sessions/xyz')).expect(400);
  });

  it('DELETE /admin/users/:userId/sessions revokes all of that user’s sessions', async () => {
    const user = await registerAndLogin(running.http);
    const second = await login(running.http, user.email, user.password);
    const bystander = await registerAndLogin(running.http);
    const res = await asAdmin(running.http.delete(`/admin/users/${user.userId}/sessions`)).expect(200);
    expect(res.body).toEqual({ revoked: 2 });
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(401);
    await running.http.get('/ping/secure').auth(second.accessToken, { type: 'bearer' }).expect(401);
    await running.http.get('/ping/secure').auth(bystander.accessToken, { type: 'bearer' }).expect(200);
    const again = await asAdmin(running.http.delete(`/admin/users/${user.userId}/sessions`)).expect(200);
    expect(again.body).toEqual({ revoked: 0 });
  });
});
