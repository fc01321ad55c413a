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

  async function cookieLogin() {
    const email = uniqueEmail();
    await running.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
    const res = await running.http.post('/auth/login').send({ email, password: 'long enough' }).expect(200);
    return { res, jar: jarOf(res) };
  }

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
