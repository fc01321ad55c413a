import { registerAndLogin, resetDatabase, RunningApp, startApp, uniqueEmail } from '../support/app-harness';

type Jar = Record<string, string>;
const setCookies = (res: { headers: Record<string, unknown> }): string[] =>
  ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []);
const jarOf = (res: { headers: Record<string, unknown> }): Jar =>
  Object.fromEntries(setCookies(res).map((c) => c.split(';')[0].split('=') as [string, string]));
const cookieHeader = (jar: Jar, names = Object.keys(jar)) => names.map((n) => `${n}=${jar[n]}`).join('; ');

describe('cookie transport and CSRF', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  async function cookieLogin(email = uniqueEmail()) {
    await running.http.post('/auth/register').send({ email, password: 'long enough' });
    const res = await running.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200);
    return { res, jar: jarOf(res), email };
  }

  /** The victim's access cookie with a CSRF cookie and header of the attacker's choosing. */
  const withPlantedCsrf = (jar: Jar, csrf: string) => ({
    Cookie: `__Host-access=${jar['__Host-access']}; __Secure-refresh=${jar['__Secure-refresh']}; __Host-csrf=${csrf}`,
    'X-CSRF-Token': csrf,
  });

  it('login sets __Host-access, a refresh cookie scoped to /auth, and a readable __Host-csrf', async () => {
    const { res } = await cookieLogin();
    const cookies = setCookies(res);
    const access = cookies.find((c) => c.startsWith('__Host-access='))!;
    const refresh = cookies.find((c) => c.startsWith('__Secure-refresh='))!;
    const csrf = cookies.find((c) => c.startsWith('__Host-csrf='))!;
    expect(access).toMatch(/; Path=\/(;|$)/);
    expect(access).toMatch(/HttpOnly/);
    expect(access).toMatch(/Secure/);
    expect(access).toMatch(/SameSite=Lax/);
    expect(access).not.toMatch(/Domain=/i);
    expect(refresh).toMatch(/Path=\/auth/);
    expect(refresh).toMatch(/HttpOnly/);
    expect(refresh).toMatch(/SameSite=Strict/);
    expect(csrf).not.toMatch(/HttpOnly/);
    expect(csrf).toMatch(/Secure/);
  });

  it('a safe request authenticates by the access cookie alone', async () => {
    const { jar } = await cookieLogin();
    await running.http.get('/ping/secure').set('Cookie', cookieHeader(jar)).expect(200);
  });

  it('an unsafe cookie-authenticated request needs X-CSRF-Token equal to the CSRF cookie (403 otherwise)', async () => {
    const { jar } = await cookieLogin();
    const without = await running.http.delete('/auth/sessions').set('Cookie', cookieHeader(jar));
    expect(without.status).toBe(403);
    await running.http.delete('/auth/sessions').set('Cookie', cookieHeader(jar)).set('X-CSRF-Token', 'wrong').expect(403);
    await running.http.delete('/auth/sessions').set('Cookie', cookieHeader(jar)).set('X-CSRF-Token', jar['__Host-csrf']).expect(200);
  });

  it('the CSRF value is signed for its session: an unsigned value, or one of another session, is refused even when cookie and header match', async () => {
    const victim = await cookieLogin();
    // The same user's other session: binding is to the session, not the user.
    const other = await cookieLogin(victim.email);
    const attacker = await cookieLogin();
    const planted = [
      'a'.repeat(32), // the old format: any random value the attacker writes into both
      other.jar['__Host-csrf'],
      attacker.jar['__Host-csrf'],
      `${victim.jar['__Host-csrf'].split('.')[0]}.${attacker.jar['__Host-csrf'].split('.')[1]}`,
    ];
    for (const csrf of planted) {
      const res = await running.http.delete('/auth/sessions').set(withPlantedCsrf(victim.jar, csrf));
      expect({ csrf, status: res.status, body: res.body }).toEqual({
        csrf,
        status: 403,
        body: { statusCode: 403, message: 'Missing or invalid CSRF token', error: 'Forbidden' },
      });
    }
    // Nothing changed: the victim's other session is still live.
    await running.http.get('/ping/secure').set('Cookie', cookieHeader(other.jar, ['__Host-access'])).expect(200);
    await running.http.delete('/auth/sessions').set(withPlantedCsrf(victim.jar, victim.jar['__Host-csrf'])).expect(200);
    await running.http.get('/ping/secure').set('Cookie', cookieHeader(other.jar, ['__Host-access'])).expect(401);
  });

  it('refresh by cookie refuses a CSRF value not issued with that refresh cookie, before rotating anything', async () => {
    const victim = await cookieLogin();
    const other = await cookieLogin(victim.email);
    for (const csrf of ['a'.repeat(32), other.jar['__Host-csrf']]) {
      await running.http.post('/auth/refresh').set(withPlantedCsrf(victim.jar, csrf)).send({}).expect(403);
    }
    // A refresh cookie planted beside the victim's own CSRF cookie (a login swap, SECURITY.md §5.4).
    await running.http
      .post('/auth/refresh')
      .set('Cookie', `__Secure-refresh=${other.jar['__Secure-refresh']}; __Host-csrf=${victim.jar['__Host-csrf']}`)
      .set('X-CSRF-Token', victim.jar['__Host-csrf'])
      .send({})
      .expect(403);
    // Neither refresh token was rotated: each still works, with its own CSRF value.
    await running.http.post('/auth/refresh').set(withPlantedCsrf(other.jar, other.jar['__Host-csrf'])).send({}).expect(200);
    await running.http.post('/auth/refresh').set(withPlantedCsrf(victim.jar, victim.jar['__Host-csrf'])).send({}).expect(200);
  });

  it('refresh sets a fresh CSRF value, which works for the session', async () => {
    const { jar } = await cookieLogin();
    const res = await running.http.post('/auth/refresh').set(withPlantedCsrf(jar, jar['__Host-csrf'])).send({}).expect(200);
    const next = jarOf(res);
    expect(next['__Host-csrf']).toEqual(expect.any(String));
    expect(next['__Host-csrf']).not.toBe(jar['__Host-csrf']);
    await running.http.delete('/auth/sessions').set(withPlantedCsrf(next, next['__Host-csrf'])).expect(200);
  });

  it('a bearer header needs no CSRF token', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.delete('/auth/sessions').auth(user.accessToken, { type: 'bearer' }).expect(200);
  });

  it('refresh by cookie needs the CSRF header and rotates the cookies', async () => {
    const { jar } = await cookieLogin();
    await running.http.post('/auth/refresh').set('Cookie', cookieHeader(jar)).send({}).expect(403);
    const res = await running.http
      .post('/auth/refresh')
      .set('Cookie', cookieHeader(jar))
      .set('X-CSRF-Token', jar['__Host-csrf'])
      .send({})
      .expect(200);
    const next = jarOf(res);
    expect(next['__Host-access']).toBe(res.body.accessToken);
    expect(next['__Secure-refresh']).toBe(res.body.refreshToken);
    await running.http.get('/ping/secure').set('Cookie', cookieHeader(jar, ['__Host-access'])).expect(401);
    await running.http.get('/ping/secure').set('Cookie', cookieHeader(next, ['__Host-access'])).expect(200);
  });

  it('logout by cookie clears the cookies', async () => {
    const { jar } = await cookieLogin();
    const res = await running.http
      .post('/auth/logout')
      .set('Cookie', cookieHeader(jar))
      .set('X-CSRF-Token', jar['__Host-csrf'])
      .expect(204);
    const cleared = setCookies(res);
    for (const name of ['__Host-access', '__Secure-refresh', '__Host-csrf']) {
      expect(cleared.find((c) => c.startsWith(`${name}=;`))).toBeDefined();
    }
    await running.http.get('/ping/secure').set('Cookie', cookieHeader(jar)).expect(401);
  });

  describe('SESSION_COOKIES=only', () => {
    let cookiesOnly: RunningApp;
    beforeAll(async () => {
      cookiesOnly = await startApp({ SESSION_COOKIES: 'only' });
    });
    afterAll(() => cookiesOnly.close());

    const TOKEN = /s[ar]_[A-Za-z0-9_-]{20,}/;

    it('login sets the cookies and returns no token in the body: the session id, the user and the lifetimes', async () => {
      const email = uniqueEmail();
      await cookiesOnly.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
      const res = await cookiesOnly.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200);
      expect(res.body).toEqual({
        sessionId: expect.any(String),
        expiresIn: 900,
        refreshExpiresIn: 604800,
        user: { id: expect.any(String), email, roles: expect.any(Array) },
      });
      expect(res.text).not.toMatch(TOKEN);
      expect(res.headers['cache-control']).toBe('no-store');
      const jar = jarOf(res);
      expect(Object.keys(jar).sort()).toEqual(['__Host-access', '__Host-csrf', '__Secure-refresh']);
      await cookiesOnly.http.get('/ping/secure').set('Cookie', cookieHeader(jar)).expect(200);
    });

    it('refresh works from the refresh cookie alone (with the CSRF header) and returns no token either', async () => {
      const email = uniqueEmail();
      await cookiesOnly.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
      const login = await cookiesOnly.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200);
      const jar = jarOf(login);
      const res = await cookiesOnly.http
        .post('/auth/refresh')
        .set('Cookie', cookieHeader(jar, ['__Secure-refresh', '__Host-csrf']))
        .set('X-CSRF-Token', jar['__Host-csrf'])
        .expect(200);
      expect(res.body).toEqual({ sessionId: login.body.sessionId, expiresIn: 900, refreshExpiresIn: 604800, user: login.body.user });
      expect(res.text).not.toMatch(TOKEN);
      const next = jarOf(res);
      await cookiesOnly.http.get('/ping/secure').set('Cookie', cookieHeader(next, ['__Host-access'])).expect(200);
      await cookiesOnly.http.get('/ping/secure').set('Cookie', cookieHeader(jar, ['__Host-access'])).expect(401);
    });

    it('no other route answers with a token: me, sessions, password change, logout', async () => {
      const email = uniqueEmail();
      await cookiesOnly.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
      const jar = jarOf(await cookiesOnly.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200));
      const cookie = { Cookie: cookieHeader(jar), 'X-CSRF-Token': jar['__Host-csrf'] };
      const answers = [
        await cookiesOnly.http.get('/auth/me').set(cookie).expect(200),
        await cookiesOnly.http.get('/auth/sessions').set(cookie).expect(200),
        await cookiesOnly.http.post('/auth/password').set(cookie).send({ currentPassword: 'long enough', newPassword: 'longer still' }).expect(204),
        await cookiesOnly.http.post('/auth/logout').set(cookie).expect(204),
      ];
      for (const res of answers) expect(res.text).not.toMatch(TOKEN);
    });
  });

  it('SESSION_COOKIES=false: no cookies are set and the access cookie is ignored', async () => {
    const bearerOnly = await startApp({ SESSION_COOKIES: 'false' });
    try {
      const email = uniqueEmail();
      await bearerOnly.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
      const res = await bearerOnly.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200);
      expect(setCookies(res)).toEqual([]);
      await bearerOnly.http.get('/ping/secure').set('Cookie', `__Host-access=${res.body.accessToken}`).expect(401);
    } finally {
      await bearerOnly.close();
    }
  });
});
