import { setTimeout as sleep } from 'node:timers/promises';
import { login, registerAndLogin, resetDatabase, RunningApp, sql, startApp, uniqueEmail, USER_AGENT_CHROME_MAC } from '../support/app-harness';

type Jar = Record<string, string>;
const jarOf = (res: { headers: Record<string, unknown> }): Jar =>
  Object.fromEntries(
    ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).map((c) => c.split(';')[0].split('=') as [string, string]),
  );
const cookieHeader = (jar: Jar, names = Object.keys(jar)) => names.map((n) => `${n}=${jar[n]}`).join('; ');

/**
 * Issue 11, finding 7 / SECURITY.md §5.2: a login ends the session the client already had — the
 * one it presents (bearer header, access or refresh cookie) and the user's one on the same device
 * id (`X-Device-Id` or the body's `deviceId`) — with reason and audit type `replaced`.
 */
describe('a login replaces the session the client already had', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  async function reasonOf(sessionId: string): Promise<string | null> {
    const [row] = await sql<{ revoked_reason: string | null }>('SELECT revoked_reason FROM sessions WHERE id = $1', [sessionId]);
    return row.revoked_reason;
  }

  /** The audit entries of a session (the trail is written behind: wait up to 3 s for `type`). */
  async function auditOf(sessionId: string, type: string): Promise<Array<{ type: string; detail: string | null }>> {
    for (let i = 0; ; i++) {
      const rows = await sql<{ type: string; detail: string | null }>('SELECT type, detail FROM session_audit WHERE session_id = $1 ORDER BY id', [sessionId]);
      if (rows.some((r) => r.type === type) || i >= 30) return rows;
      await sleep(100);
    }
  }

  async function liveSessionIds(userId: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      'SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND ended_at IS NULL ORDER BY created_at',
      [userId],
    );
    return rows.map((r) => r.id);
  }

  it('a login with the bearer token of a live session of the same user ends that session (replaced): its tokens stop working', async () => {
    const first = await registerAndLogin(running.http);
    const again = await running.http
      .post('/auth/login')
      .auth(first.accessToken, { type: 'bearer' })
      .send({ email: first.email, password: first.password })
      .expect(200);
    expect(again.body.sessionId).not.toBe(first.sessionId);
    expect(await reasonOf(first.sessionId)).toBe('replaced');
    await running.http.get('/ping/secure').auth(first.accessToken, { type: 'bearer' }).expect(401);
    await running.http.post('/auth/refresh').send({ refreshToken: first.refreshToken }).expect(401);
    await running.http.get('/ping/secure').auth(again.body.accessToken, { type: 'bearer' }).expect(200);
    expect(await liveSessionIds(first.userId)).toEqual([again.body.sessionId]);
    expect(await auditOf(first.sessionId, 'replaced')).toContainEqual({ type: 'replaced', detail: 'same client' });
  });

  it('a browser logging in again with its cookies (access and refresh, no CSRF header needed) keeps one session', async () => {
    const email = uniqueEmail();
    await running.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
    const first = await running.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200);
    const jar = jarOf(first);
    const second = await running.http.post('/auth/login').set('Cookie', cookieHeader(jar)).send({ email, password: 'long enough' }).expect(200);
    expect(await reasonOf(first.body.sessionId)).toBe('replaced');
    await running.http.get('/ping/secure').set('Cookie', cookieHeader(jar, ['__Host-access'])).expect(401);
    expect(await liveSessionIds(first.body.user.id)).toEqual([second.body.sessionId]);
  });

  it('the refresh cookie alone (the access cookie expired) is enough', async () => {
    const email = uniqueEmail();
    await running.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
    const first = await running.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200);
    const jar = jarOf(first);
    await running.http.post('/auth/login').set('Cookie', cookieHeader(jar, ['__Secure-refresh'])).send({ email, password: 'long enough' }).expect(200);
    expect(await reasonOf(first.body.sessionId)).toBe('replaced');
    await running.http.post('/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(401);
  });

  it("another user's token, a forged one or a rotated-away one presented at login ends nothing", async () => {
    const other = await registerAndLogin(running.http);
    const user = await registerAndLogin(running.http);
    await running.http.post('/auth/login').auth(other.accessToken, { type: 'bearer' }).send({ email: user.email, password: user.password }).expect(200);
    expect(await reasonOf(other.sessionId)).toBeNull();
    await running.http.post('/auth/login').auth('sa_' + 'A'.repeat(64), { type: 'bearer' }).send({ email: user.email, password: user.password }).expect(200);
    const rotated = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await running.http.post('/auth/login').auth(user.accessToken, { type: 'bearer' }).send({ email: user.email, password: user.password }).expect(200);
    expect(await reasonOf(user.sessionId)).toBeNull();
    await running.http.get('/ping/secure').auth(rotated.body.accessToken, { type: 'bearer' }).expect(200);
  });

  it('a failed login ends nothing', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.post('/auth/login').auth(user.accessToken, { type: 'bearer' }).send({ email: user.email, password: 'wrong password' }).expect(401);
    expect(await reasonOf(user.sessionId)).toBeNull();
  });

  it('X-Device-Id: a new login on the same device id ends the earlier session of that user there, and only that one', async () => {
    const user = await registerAndLogin(running.http); // no device id: stays
    const other = await registerAndLogin(running.http);
    const onDevice = (email: string, password: string, deviceId: string) =>
      running.http.post('/auth/login').set('User-Agent', USER_AGENT_CHROME_MAC).set('X-Device-Id', deviceId).send({ email, password }).expect(200);
    const phone = await onDevice(user.email, user.password, 'phone-1');
    const laptop = await onDevice(user.email, user.password, 'laptop-1');
    const otherPhone = await onDevice(other.email, other.password, 'phone-1');
    const phoneAgain = await onDevice(user.email, user.password, 'phone-1');
    expect(await reasonOf(phone.body.sessionId)).toBe('replaced');
    await running.http.get('/ping/secure').auth(phone.body.accessToken, { type: 'bearer' }).expect(401);
    expect((await liveSessionIds(user.userId)).sort()).toEqual([user.sessionId, laptop.body.sessionId, phoneAgain.body.sessionId].sort());
    expect(await reasonOf(otherPhone.body.sessionId)).toBeNull();
    expect(await auditOf(phone.body.sessionId, 'replaced')).toContainEqual({ type: 'replaced', detail: 'same device' });
  });

  it("the body's deviceId counts like the header (and wins over it)", async () => {
    const user = await registerAndLogin(running.http);
    const first = await running.http
      .post('/auth/login')
      .set('X-Device-Id', 'header-device')
      .send({ email: user.email, password: user.password, deviceId: 'tablet-7' })
      .expect(200);
    await running.http.post('/auth/login').send({ email: user.email, password: user.password, deviceId: 'tablet-7' }).expect(200);
    expect(await reasonOf(first.body.sessionId)).toBe('replaced');
    const [row] = await sql<{ device_id: string }>('SELECT device_id FROM sessions WHERE id = $1', [first.body.sessionId]);
    expect(row.device_id).toBe('tablet-7');
  });

  it('concurrent logins with one device id leave exactly one live session on it; every login answers 200', async () => {
    const user = await registerAndLogin(running.http);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        running.http.post('/auth/login').set('X-Device-Id', 'racing-device').send({ email: user.email, password: user.password }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const [{ n }] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND device_id = 'racing-device' AND revoked_at IS NULL AND ended_at IS NULL`,
      [user.userId],
    );
    expect(n).toBe(1);
    const working = await Promise.all(results.map((r) => running.http.get('/ping/secure').auth(r.body.accessToken, { type: 'bearer' })));
    expect(working.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it.each([
    ['an empty string', ''],
    ['129 characters', 'd'.repeat(129)],
    ['a control character', 'dev\u0007ice'], ['an invisible format character', 'dev\u200eice'],
    ['a number', 42],
  ])('a deviceId of %s is 400 and opens nothing', async (_label, deviceId) => {
    const user = await registerAndLogin(running.http);
    const res = await running.http.post('/auth/login').send({ email: user.email, password: user.password, deviceId }).expect(400);
    expect(res.body.message).toEqual(expect.arrayContaining([expect.stringMatching(/^deviceId /)]));
    expect(await liveSessionIds(user.userId)).toEqual([user.sessionId]);
  });

  it('a deviceId of 128 characters is accepted', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.post('/auth/login').send({ email: user.email, password: user.password, deviceId: 'é'.repeat(128) }).expect(200);
  });

  it('login (the harness helper) without any token or device id still opens a session beside the others', async () => {
    const user = await registerAndLogin(running.http);
    const second = await login(running.http, user.email, user.password);
    expect((await liveSessionIds(user.userId)).sort()).toEqual([user.sessionId, second.sessionId].sort());
  });
});
