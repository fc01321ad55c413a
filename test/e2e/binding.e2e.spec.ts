import { registerAndLogin, resetDatabase, RunningApp, sql, startApp, USER_AGENT_CHROME_MAC } from '../support/app-harness';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** ASVS 7.x / the seeds' hijack detection: a session used from another client is revoked. */
describe('session binding (SESSION_BINDING)', () => {
  let running: RunningApp | undefined;
  beforeAll(() => resetDatabase());
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function reasonOf(sessionId: string): Promise<string | null> {
    const [row] = await sql<{ revoked_reason: string | null }>('SELECT revoked_reason FROM sessions WHERE id = $1', [sessionId]);
    return row.revoked_reason;
  }

  it('ua (the default): the same browser family passes; another browser revokes the session (hijack_suspected)', async () => {
    running = await startApp({ SESSION_BINDING: undefined });
    const { http } = running;
    const user = await registerAndLogin(http);
    const newer = USER_AGENT_CHROME_MAC.replace('Chrome/120.0', 'Chrome/131.0');
    await http.get('/ping/secure').set('User-Agent', newer).auth(user.accessToken, { type: 'bearer' }).expect(200);
    await http.get('/ping/secure').set('User-Agent', FIREFOX_LINUX).auth(user.accessToken, { type: 'bearer' }).expect(401);
    expect(await reasonOf(user.sessionId)).toBe('hijack_suspected');
    // Revoked everywhere: the rightful browser is out too, and so is the refresh token.
    await http.get('/ping/secure').set('User-Agent', USER_AGENT_CHROME_MAC).auth(user.accessToken, { type: 'bearer' }).expect(401);
    await http.post('/auth/refresh').set('User-Agent', USER_AGENT_CHROME_MAC).send({ refreshToken: user.refreshToken }).expect(401);
  });

  it('ua: a stolen refresh token used from another browser revokes the session', async () => {
    running = await startApp({ SESSION_BINDING: 'ua' });
    const user = await registerAndLogin(running.http);
    await running.http.post('/auth/refresh').set('User-Agent', FIREFOX_LINUX).send({ refreshToken: user.refreshToken }).expect(401);
    expect(await reasonOf(user.sessionId)).toBe('hijack_suspected');
  });

  it('ip: another /24 revokes the session; the same /24 passes (TRUST_PROXY to vary the client IP)', async () => {
    running = await startApp({ SESSION_BINDING: 'ip', TRUST_PROXY: 'true' });
    const { http } = running;
    await http.post('/auth/register').send({ email: 'ip-bound@example.com', password: 'long enough' }).expect(201);
    const login = await http
      .post('/auth/login')
      .set('X-Forwarded-For', '203.0.113.10')
      .send({ email: 'ip-bound@example.com', password: 'long enough' })
      .expect(200);
    const token = login.body.accessToken as string;
    await http.get('/ping/secure').set('X-Forwarded-For', '203.0.113.77').set('User-Agent', FIREFOX_LINUX).auth(token, { type: 'bearer' }).expect(200);
    await http.get('/ping/secure').set('X-Forwarded-For', '198.51.100.4').auth(token, { type: 'bearer' }).expect(401);
    expect(await reasonOf(login.body.sessionId)).toBe('hijack_suspected');
  });

  // Issue 11, finding 4: the refresh grace path handed out the live pair without the binding check.
  it('ip: the just-rotated refresh token presented from another /24 within the grace window gets no pair; the session is revoked', async () => {
    running = await startApp({ SESSION_BINDING: 'ip', TRUST_PROXY: 'true' });
    const { http } = running;
    await http.post('/auth/register').send({ email: 'ip-grace@example.com', password: 'long enough' }).expect(201);
    const login = await http
      .post('/auth/login')
      .set('X-Forwarded-For', '203.0.113.10')
      .send({ email: 'ip-grace@example.com', password: 'long enough' })
      .expect(200);
    const rotated = await http
      .post('/auth/refresh')
      .set('X-Forwarded-For', '203.0.113.10')
      .send({ refreshToken: login.body.refreshToken })
      .expect(200);
    const theft = await http
      .post('/auth/refresh')
      .set('X-Forwarded-For', '198.51.100.4')
      .send({ refreshToken: login.body.refreshToken })
      .expect(401);
    expect(theft.body.accessToken).toBeUndefined();
    expect(await reasonOf(login.body.sessionId)).toBe('hijack_suspected');
    await http.get('/ping/secure').set('X-Forwarded-For', '203.0.113.10').auth(rotated.body.accessToken, { type: 'bearer' }).expect(401);
    await http.post('/auth/refresh').set('X-Forwarded-For', '203.0.113.10').send({ refreshToken: rotated.body.refreshToken }).expect(401);
  });

  it('ua: the just-rotated refresh token presented from another browser within the grace window gets no pair; the same browser gets the same pair', async () => {
    running = await startApp({ SESSION_BINDING: 'ua' });
    const { http } = running;
    const user = await registerAndLogin(http);
    const rotated = await http.post('/auth/refresh').set('User-Agent', USER_AGENT_CHROME_MAC).send({ refreshToken: user.refreshToken }).expect(200);
    const retry = await http.post('/auth/refresh').set('User-Agent', USER_AGENT_CHROME_MAC).send({ refreshToken: user.refreshToken }).expect(200);
    expect(retry.body.refreshToken).toBe(rotated.body.refreshToken);
    const theft = await http.post('/auth/refresh').set('User-Agent', FIREFOX_LINUX).send({ refreshToken: user.refreshToken }).expect(401);
    expect(theft.body.refreshToken).toBeUndefined();
    expect(await reasonOf(user.sessionId)).toBe('hijack_suspected');
    await http.get('/ping/secure').set('User-Agent', USER_AGENT_CHROME_MAC).auth(rotated.body.accessToken, { type: 'bearer' }).expect(401);
  });

  it('off: any client may use the session', async () => {
    running = await startApp({ SESSION_BINDING: 'off' });
    const user = await registerAndLogin(running.http);
    await running.http.get('/ping/secure').set('User-Agent', FIREFOX_LINUX).auth(user.accessToken, { type: 'bearer' }).expect(200);
  });
});
