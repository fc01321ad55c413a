import type { Socket } from 'socket.io-client';
import { listenOnFreePort } from '../support/listen';
import { login, registerAndLogin, resetDatabase, RunningApp, sql, startApp, uniqueEmail, USER_AGENT_CHROME_MAC } from '../support/app-harness';
import { connectIo, connectWs, ioEnding, whoami } from '../support/socket-clients';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every way a session ends closes its sockets, each told why first; an access token that expires
 * or is rotated away while its session lives does not. One instance here, on PostgreSQL and Redis
 * (two instances: realtime-instances.e2e.spec.ts).
 */
describe('real-time: a session that ends closes its sockets, saying why', () => {
  let running: RunningApp;
  let url: string;
  let admin: { accessToken: string };
  const adminEmail = uniqueEmail('admin');

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: 'admin password 1',
      SESSION_MAX_PER_USER: '3',
      SESSION_REFRESH_GRACE: '0',
      // Hijack detection needs a binding: every client here speaks as the browser it logged in with.
      SESSION_BINDING: 'ua',
    });
    url = await listenOnFreePort(running.app);
    admin = await login(running.http, adminEmail.toLowerCase(), 'admin password 1');
  });
  afterAll(() => running.close());

  const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'user-agent': USER_AGENT_CHROME_MAC });
  const open = async (token: string): Promise<Socket> => connectIo(url, { auth: { token }, extraHeaders: { 'user-agent': USER_AGENT_CHROME_MAC } });
  const as = (req: import('supertest').Test, token: string) => req.set(bearer(token));

  /** Opens a socket for the session, runs `end`, and answers what the socket saw. */
  async function endingOf(token: string, end: () => Promise<unknown>) {
    const socket = await open(token);
    await whoami(socket);
    const ending = ioEnding(socket);
    await end();
    const seen = await ending;
    return { reason: seen.ended?.reason, disconnect: seen.disconnect };
  }

  it('logout: session.ended {reason: "logout"}, then the server disconnects it', async () => {
    const user = await registerAndLogin(running.http);
    expect(await endingOf(user.accessToken, () => as(running.http.post('/auth/logout'), user.accessToken).expect(204))).toEqual({
      reason: 'logout',
      disconnect: 'io server disconnect',
    });
  });

  it('revoke (DELETE /auth/sessions/:id) and revoke all (DELETE /auth/sessions)', async () => {
    const user = await registerAndLogin(running.http);
    const other = await login(running.http, user.email, user.password);
    expect((await endingOf(other.accessToken, () => as(running.http.delete(`/auth/sessions/${other.sessionId}`), user.accessToken).expect(204))).reason).toBe('revoked');
    const third = await login(running.http, user.email, user.password);
    expect((await endingOf(third.accessToken, () => as(running.http.delete('/auth/sessions'), user.accessToken).expect(200))).reason).toBe('revoked_all');
  });

  it('admin revoke of one session, and of every session of a user', async () => {
    const user = await registerAndLogin(running.http);
    expect((await endingOf(user.accessToken, () => as(running.http.delete(`/admin/sessions/${user.sessionId}`), admin.accessToken).expect(204))).reason).toBe(
      'revoked_by_admin',
    );
    const again = await login(running.http, user.email, user.password);
    expect((await endingOf(again.accessToken, () => as(running.http.delete(`/admin/users/${user.userId}/sessions`), admin.accessToken).expect(200))).reason).toBe(
      'revoked_by_admin',
    );
  });

  it('password change ends the other sessions; the current one’s socket stays', async () => {
    const user = await registerAndLogin(running.http);
    const other = await login(running.http, user.email, user.password);
    const current = await open(user.accessToken);
    const change = () =>
      as(running.http.post('/auth/password'), user.accessToken).send({ currentPassword: user.password, newPassword: 'a brand new password' }).expect(204);
    expect((await endingOf(other.accessToken, change)).reason).toBe('password_changed');
    expect(await whoami(current)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    current.close();
  });

  it('eviction (a login beyond SESSION_MAX_PER_USER=3 evicts the least recently used)', async () => {
    const user = await registerAndLogin(running.http);
    await login(running.http, user.email, user.password);
    await login(running.http, user.email, user.password);
    expect((await endingOf(user.accessToken, () => login(running.http, user.email, user.password))).reason).toBe('evicted');
  });

  it('a login that replaces the session the client had, or the one on the same device id', async () => {
    const user = await registerAndLogin(running.http);
    const relogin = () =>
      running.http.post('/auth/login').set(bearer(user.accessToken)).send({ email: user.email, password: user.password }).expect(200);
    expect((await endingOf(user.accessToken, relogin)).reason).toBe('replaced');
    const onDevice = await running.http.post('/auth/login').set('user-agent', USER_AGENT_CHROME_MAC).send({ email: user.email, password: user.password, deviceId: 'phone-1' }).expect(200);
    const sameDevice = () => running.http.post('/auth/login').send({ email: user.email, password: user.password, deviceId: 'phone-1' }).expect(200);
    expect((await endingOf(onDevice.body.accessToken, sameDevice)).reason).toBe('replaced');
  });

  it('refresh-token reuse', async () => {
    const user = await registerAndLogin(running.http);
    const refreshed = await running.http.post('/auth/refresh').set('user-agent', USER_AGENT_CHROME_MAC).send({ refreshToken: user.refreshToken }).expect(200);
    const reuse = () => running.http.post('/auth/refresh').set('user-agent', USER_AGENT_CHROME_MAC).send({ refreshToken: user.refreshToken }).expect(401);
    expect((await endingOf(refreshed.body.accessToken, reuse)).reason).toBe('reuse_detected');
  });

  it('hijack (the token used from another browser)', async () => {
    const user = await registerAndLogin(running.http);
    const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
    const hijack = () => running.http.get('/ping/secure').set({ authorization: `Bearer ${user.accessToken}`, 'user-agent': firefox }).expect(401);
    expect((await endingOf(user.accessToken, hijack)).reason).toBe('hijack_suspected');
  });

  it('expiry: the socket closes when its session’s time runs out', async () => {
    const user = await registerAndLogin(running.http);
    await sql(`UPDATE sessions SET expires_at = now() + interval '1500 milliseconds' WHERE id = $1`, [user.sessionId]);
    expect((await endingOf(user.accessToken, () => sleep(0))).reason).toBe('expired');
  });

  it('an access token that expires, or is rotated away, while its session lives leaves the socket open', async () => {
    const user = await registerAndLogin(running.http);
    await sql(`UPDATE sessions SET access_expires_at = now() + interval '1 second' WHERE id = $1`, [user.sessionId]);
    const socket = await open(user.accessToken);
    await sleep(1300);
    expect(await whoami(socket)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    await running.http.post('/auth/refresh').set('user-agent', USER_AGENT_CHROME_MAC).send({ refreshToken: user.refreshToken }).expect(200);
    expect(await whoami(socket)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it('a socket is online in GET /auth/sessions, GET /admin/sessions and the stats while it is open', async () => {
    const user = await registerAndLogin(running.http);
    const idle = await login(running.http, user.email, user.password);
    const socket = await open(user.accessToken);
    await whoami(socket);
    await sleep(50); // presence is written just after the connection
    const own = await as(running.http.get('/auth/sessions'), idle.accessToken).expect(200);
    const byId = Object.fromEntries(own.body.map((s: { id: string; online: boolean }) => [s.id, s.online]));
    expect(byId).toEqual({ [user.sessionId]: true, [idle.sessionId]: false });
    const listed = await as(running.http.get(`/admin/sessions?userId=${user.userId}`), admin.accessToken).expect(200);
    expect(listed.body.items.find((s: { id: string }) => s.id === user.sessionId).online).toBe(true);
    const stats = await as(running.http.get('/admin/sessions/stats'), admin.accessToken).expect(200);
    expect(stats.body.online).toBeGreaterThanOrEqual(1);
    expect(stats.body.onlineUsers).toBeGreaterThanOrEqual(1);
    socket.close();
    await sleep(100);
    const after = await as(running.http.get('/auth/sessions'), idle.accessToken).expect(200);
    expect(after.body.every((s: { online: boolean }) => !s.online)).toBe(true);
  });

  it('metrics: session_sockets_open (this instance) and session_online_users (everywhere)', async () => {
    const user = await registerAndLogin(running.http);
    const gauge = async (name: string) => Number(/^(\S+) (\d+)$/m.exec((await running.http.get('/metrics')).text.split('\n').filter((l) => l.startsWith(`${name} `)).join('\n'))?.[2]);
    const before = { open: await gauge('session_sockets_open'), users: await gauge('session_online_users') };
    const sockets = [await open(user.accessToken), await open(user.accessToken)];
    await sleep(50);
    expect(await gauge('session_sockets_open')).toBe(before.open + 2);
    expect(await gauge('session_online_users')).toBe(before.users + 1);
    for (const socket of sockets) socket.close();
    await sleep(100);
    expect(await gauge('session_sockets_open')).toBe(before.open);
  });

  it('plain WebSocket (ws): session.ended with the reason, then close code 4401', async () => {
    const ws = await startApp({ REALTIME_TRANSPORT: 'ws' });
    try {
      const wsUrl = `${(await listenOnFreePort(ws.app)).replace('http', 'ws')}/ws`;
      const user = await registerAndLogin(ws.http);
      const client = connectWs(wsUrl, { authorization: `Bearer ${user.accessToken}` });
      await client.opened;
      await client.request('whoami');
      await ws.http.post('/auth/logout').set('authorization', `Bearer ${user.accessToken}`).expect(204);
      const closed = await client.closed;
      expect(closed.code).toBe(4401);
      expect(closed.messages).toContainEqual({ event: 'session.ended', data: { reason: 'logout' } });
    } finally {
      await ws.close();
    }
  });
});
