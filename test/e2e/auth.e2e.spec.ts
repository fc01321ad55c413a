import {
  login,
  registerAndLogin,
  resetDatabase,
  RunningApp,
  startApp,
  uniqueEmail,
} from '../support/app-harness';

const INVALID_TOKEN_BODY = { statusCode: 401, message: 'Invalid or expired token', error: 'Unauthorized' };

describe('auth routes (PostgreSQL + Redis)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  describe('POST /auth/register', () => {
    it('201 with {id, email}, the email stored lower-case', async () => {
      const email = uniqueEmail('Mixed').replace('mixed', 'MiXeD');
      const res = await running.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
      expect(res.body).toEqual({ id: expect.any(String), email: email.toLowerCase() });
    });

    it('400 for an invalid email', async () => {
      const res = await running.http.post('/auth/register').send({ email: 'not-an-email', password: 'long enough' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });

    it('400 for a password shorter than 8', async () => {
      await running.http.post('/auth/register').send({ email: uniqueEmail(), password: 'short' }).expect(400);
    });

    it('400 for unknown fields such as roles, and no user is made', async () => {
      const email = uniqueEmail();
      await running.http.post('/auth/register').send({ email, password: 'long enough', roles: ['admin'] }).expect(400);
      await running.http.post('/auth/login').send({ email, password: 'long enough' }).expect(401);
    });

    it('409 when the email is taken, whatever its case', async () => {
      const email = uniqueEmail();
      await running.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
      const res = await running.http.post('/auth/register').send({ email: email.toUpperCase(), password: 'other password' });
      expect(res.status).toBe(409);
    });
  });

  describe('POST /auth/login', () => {
    it('200 with tokens, expiries, session id and user; no-store', async () => {
      const email = uniqueEmail();
      await running.http.post('/auth/register').send({ email, password: 'long enough' }).expect(201);
      const res = await running.http.post('/auth/login').send({ email: email.toUpperCase(), password: 'long enough' });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        accessToken: expect.stringMatching(/^sa_[A-Za-z0-9_-]{64}$/),
        refreshToken: expect.stringMatching(/^sr_[A-Za-z0-9_-]{64}$/),
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshExpiresIn: 604800,
        sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        user: { id: expect.any(String), email, roles: [] },
      });
    });

    it('400 for a malformed body', async () => {
      for (const body of [{}, { email: 'x@example.com' }, { email: 42, password: 'x' }, { email: 'a@b.co', password: 'x', extra: 1 }]) {
        const res = await running.http.post('/auth/login').send(body);
        expect(res.status).toBe(400);
      }
    });

    it('401 with the same body for an unknown email and a wrong password', async () => {
      const user = await registerAndLogin(running.http);
      const wrong = await running.http.post('/auth/login').send({ email: user.email, password: 'wrong password' });
      const unknown = await running.http.post('/auth/login').send({ email: uniqueEmail('nobody'), password: 'wrong password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body).toEqual({ statusCode: 401, message: 'Invalid credentials', error: 'Unauthorized' });
      expect(unknown.body).toEqual(wrong.body);
    });
  });

  describe('POST /auth/refresh', () => {
    it('200 with new tokens for the same session; the old refresh and access tokens stop working', async () => {
      const user = await registerAndLogin(running.http);
      const res = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.sessionId).toBe(user.sessionId);
      expect(res.body.accessToken).not.toBe(user.accessToken);
      expect(res.body.refreshToken).not.toBe(user.refreshToken);
      expect(res.body.user).toEqual({ id: user.userId, email: user.email, roles: [] });
      await running.http.get('/ping/secure').auth(res.body.accessToken, { type: 'bearer' }).expect(200);
      await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(401);
    });

    it('400 for a malformed body', async () => {
      await running.http.post('/auth/refresh').send({ refreshToken: 12 }).expect(400);
      await running.http.post('/auth/refresh').send({ refreshToken: 'x', other: true }).expect(400);
    });

    it('401 for an unknown or forged refresh token, and for an access token', async () => {
      const user = await registerAndLogin(running.http);
      for (const refreshToken of ['sr_' + 'A'.repeat(64), 'garbage', user.accessToken]) {
        const res = await running.http.post('/auth/refresh').send({ refreshToken });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(INVALID_TOKEN_BODY);
      }
    });

    it('401 after logout', async () => {
      const user = await registerAndLogin(running.http);
      await running.http.post('/auth/logout').auth(user.accessToken, { type: 'bearer' }).expect(204);
      await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    });

    it('reuse of a rotated-away refresh token is 401 and revokes the whole session', async () => {
      const user = await registerAndLogin(running.http);
      const between = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      const first = await running.http.post('/auth/refresh').send({ refreshToken: between.body.refreshToken }).expect(200);
      const reuse = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken });
      expect(reuse.status).toBe(401);
      expect(reuse.body).toEqual(INVALID_TOKEN_BODY);
      await running.http.get('/ping/secure').auth(first.body.accessToken, { type: 'bearer' }).expect(401);
      await running.http.post('/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(401);
    });
  });

  describe('POST /auth/logout', () => {
    it('204; then the access and refresh tokens are rejected; cookies cleared', async () => {
      const user = await registerAndLogin(running.http);
      const res = await running.http.post('/auth/logout').auth(user.accessToken, { type: 'bearer' }).expect(204);
      const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      expect(cookies.some((c) => c.startsWith('__Host-access=;'))).toBe(true);
      await running.http.get('/auth/me').auth(user.accessToken, { type: 'bearer' }).expect(401);
      await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    });

    it('401 without a session, with WWW-Authenticate: Bearer', async () => {
      const res = await running.http.post('/auth/logout');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toEqual(INVALID_TOKEN_BODY);
    });
  });

  describe('GET /auth/me', () => {
    it('200 with the user and the session', async () => {
      const user = await registerAndLogin(running.http);
      const res = await running.http.get('/auth/me').auth(user.accessToken, { type: 'bearer' }).expect(200);
      expect(res.body).toEqual({
        user: { id: user.userId, email: user.email, roles: [] },
        session: {
          id: user.sessionId,
          createdAt: expect.any(String),
          lastActivityAt: expect.any(String),
          expiresAt: expect.any(String),
        },
      });
    });

    it('401 for a missing, malformed, forged or query-string token', async () => {
      const user = await registerAndLogin(running.http);
      const forged = 'sa_' + user.accessToken.slice(3, -1) + (user.accessToken.endsWith('A') ? 'B' : 'A');
      const attempts = [
        running.http.get('/auth/me'),
        running.http.get('/auth/me').set('Authorization', 'Bearer nonsense'),
        running.http.get('/auth/me').set('Authorization', `Basic ${user.accessToken}`),
        running.http.get('/auth/me').auth(forged, { type: 'bearer' }),
        running.http.get(`/auth/me?access_token=${user.accessToken}`),
        running.http.get(`/auth/me?token=${user.accessToken}`),
      ];
      for (const attempt of attempts) {
        const res = await attempt;
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.body).toEqual(INVALID_TOKEN_BODY);
      }
    });
  });

  describe('GET /ping and /ping/secure', () => {
    it('ping is public', async () => {
      await running.http.get('/ping').expect(200, { ok: true });
    });

    it('ping/secure needs a session and names its user', async () => {
      const user = await registerAndLogin(running.http);
      await running.http.get('/ping/secure').expect(401);
      const res = await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
      expect(res.body).toEqual({ ok: true, userId: user.userId });
    });
  });

  it('a user holds at most SESSION_MAX_PER_USER sessions; the least recently used is evicted', async () => {
    const user = await registerAndLogin(running.http);
    const others = [];
    for (let i = 0; i < 9; i++) others.push(await login(running.http, user.email, user.password));
    // Use the first session so it is not the least recently used one... then open an 11th.
    const tenth = others[8];
    const eleventh = await login(running.http, user.email, user.password);
    const res = await running.http.get('/auth/sessions').auth(eleventh.accessToken, { type: 'bearer' }).expect(200);
    expect(res.body).toHaveLength(10);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(401);
    await running.http.get('/ping/secure').auth(tenth.accessToken, { type: 'bearer' }).expect(200);
  });
});

describe('hardening shared by every route', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('security headers (helmet) on every answer, and no X-Powered-By', async () => {
    const res = await running.http.get('/ping').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('415 for a body that is not JSON', async () => {
    const res = await running.http.post('/auth/login').set('Content-Type', 'text/plain').send('email=a&password=b');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ statusCode: 415 });
    await running.http.post('/auth/register').type('form').send({ email: 'a@b.co', password: 'long enough' }).expect(415);
  });

  it('413 for a body over 100 kB', async () => {
    const res = await running.http.post('/auth/login').send({ email: 'a@b.co', password: 'x'.repeat(120_000) });
    expect(res.status).toBe(413);
  });

  it('431 for a header section over Node’s limit', async () => {
    const res = await running.http.get('/ping').set('X-Big', 'a'.repeat(20_000));
    expect(res.status).toBe(431);
  });

  it('400, not 500, for malformed JSON and for JSON that is not an object', async () => {
    for (const body of ['{bad json', '[1,2]', '"str"', 'null', '42']) {
      const res = await running.http.post('/auth/login').set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
    }
  });
});
