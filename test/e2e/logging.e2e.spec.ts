import {
  CapturedLogs,
  registerAndLogin,
  resetDatabase,
  RunningApp,
  startApp,
  uniqueEmail,
  USER_AGENT_CHROME_MAC,
} from '../support/app-harness';

type Jar = Record<string, string>;
type Line = Record<string, unknown>;
const jarOf = (res: { headers: Record<string, unknown> }): Jar =>
  Object.fromEntries(
    ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).map((c) => c.split(';')[0].split('=') as [string, string]),
  );
const cookieHeader = (jar: Jar) => Object.entries(jar).map(([name, value]) => `${name}=${value}`).join('; ');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PASSWORD = 'a password worth hiding';

/**
 * What the app writes to its logs: JSON only, a line per request with its id, route, status,
 * time and (when authenticated) user and session, and never a token, a password or a header
 * that could hold one.
 */
describe('structured logs', () => {
  let running: RunningApp;
  const logs = new CapturedLogs();
  /** Every raw secret the client saw during the suite; none may reach the logs. */
  const secrets: string[] = [PASSWORD];

  /** The request line of the request sent with `X-Request-Id: id`, once it is written. */
  async function requestLine(id: string): Promise<Line> {
    const by = Date.now() + 2000;
    for (;;) {
      const line = logs.records().find((l) => l.reqId === id && l.msg === 'request completed');
      if (line || Date.now() > by) return line ?? {};
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeAll(async () => {
    await resetDatabase();
    // No grace: presenting a rotated refresh token is reuse at once, which the service logs.
    running = await startApp({ SESSION_REFRESH_GRACE: '0' }, logs);
  });
  afterAll(() => running.close());

  it('logs a session from login to logout with request ids, users and sessions, and no secret', async () => {
    const { http } = running;
    const email = uniqueEmail('logs');
    await http.post('/auth/register').set('X-Request-Id', 'register-1').send({ email, password: PASSWORD }).expect(201);

    const login = await http
      .post('/auth/login')
      .set('X-Request-Id', 'login-1')
      .set('User-Agent', USER_AGENT_CHROME_MAC)
      .send({ email, password: PASSWORD })
      .expect(200);
    expect(login.headers['x-request-id']).toBe('login-1');
    const { accessToken, refreshToken, sessionId, user } = login.body;
    const loginJar = jarOf(login);
    secrets.push(accessToken, refreshToken, ...Object.values(loginJar));

    await http.get('/auth/me').set('X-Request-Id', 'me-bearer').auth(accessToken, { type: 'bearer' }).expect(200);

    const refreshed = await http.post('/auth/refresh').set('X-Request-Id', 'refresh-1').send({ refreshToken }).expect(200);
    const jar = jarOf(refreshed);
    secrets.push(refreshed.body.accessToken, refreshed.body.refreshToken, ...Object.values(jar));

    // A token in the query string authenticates nothing, and the logged path leaves it out.
    await http.get(`/ping/secure?access_token=${refreshed.body.accessToken}`).set('X-Request-Id', 'query-token').expect(401);
    const forged = `sa_${'A'.repeat(64)}`;
    secrets.push(forged);
    await http.get('/auth/me').set('X-Request-Id', 'forged').auth(forged, { type: 'bearer' }).expect(401);

    await http.get('/auth/me').set('X-Request-Id', 'me-jar').set('Cookie', cookieHeader(jar)).expect(200);
    await http
      .post('/auth/logout')
      .set('X-Request-Id', 'logout-jar')
      .set('Cookie', cookieHeader(jar))
      .set('X-CSRF-Token', jar['__Host-csrf'])
      .expect(204);

    const authenticated = { userId: user.id, sessionId };
    expect(await requestLine('register-1')).toMatchObject({ method: 'POST', path: '/auth/register', status: 201 });
    expect(await requestLine('login-1')).toMatchObject({ method: 'POST', path: '/auth/login', status: 200, userAgent: USER_AGENT_CHROME_MAC });
    expect(await requestLine('me-bearer')).toMatchObject({ method: 'GET', path: '/auth/me', status: 200, ...authenticated });
    expect(await requestLine('refresh-1')).toMatchObject({ path: '/auth/refresh', status: 200 });
    expect(await requestLine('query-token')).toMatchObject({ path: '/ping/secure', status: 401 });
    expect(await requestLine('forged')).toMatchObject({ path: '/auth/me', status: 401 });
    expect(await requestLine('me-jar')).toMatchObject({ path: '/auth/me', status: 200, ...authenticated });
    expect(await requestLine('logout-jar')).toMatchObject({ method: 'POST', path: '/auth/logout', status: 204, ...authenticated });
    for (const id of ['register-1', 'login-1', 'refresh-1', 'query-token', 'forged']) {
      const line = await requestLine(id);
      expect(line.userId, id).toBeUndefined();
      expect(line.sessionId, id).toBeUndefined();
    }
  });

  it('a warning logged while handling a request names the session, and the request line its user and session', async () => {
    const victim = await registerAndLogin(running.http);
    secrets.push(victim.accessToken, victim.refreshToken, victim.password);
    const rotated = await running.http.post('/auth/refresh').send({ refreshToken: victim.refreshToken }).expect(200);
    secrets.push(rotated.body.accessToken, rotated.body.refreshToken);
    await running.http.post('/auth/refresh').set('X-Request-Id', 'reuse').send({ refreshToken: victim.refreshToken }).expect(401);

    expect(await requestLine('reuse')).toMatchObject({ path: '/auth/refresh', status: 401 });
    const warning = logs.records().find((l) => typeof l.msg === 'string' && l.msg.startsWith('Refresh token reuse detected'));
    expect(warning).toMatchObject({ level: 40, context: 'SessionService' });
    expect(warning?.msg).toContain(victim.sessionId);
  });

  it('a body refused before the router (415, 413) gets its line and its request id too', async () => {
    const res = await running.http.post('/auth/login').set('X-Request-Id', 'early-415').set('Content-Type', 'text/plain').send('x').expect(415);
    expect(res.headers['x-request-id']).toBe('early-415');
    expect(await requestLine('early-415')).toMatchObject({ path: '/auth/login', status: 415 });
  });

  it('makes a request id when the client sends none or an unusable one, and echoes it', async () => {
    const none = await running.http.get('/ping').expect(200);
    expect(none.headers['x-request-id']).toMatch(UUID);
    expect(await requestLine(none.headers['x-request-id'])).toMatchObject({ path: '/ping', status: 200 });

    for (const unusable of ['has spaces', 'x'.repeat(65), 'quote"d']) {
      const res = await running.http.get('/ping').set('X-Request-Id', unusable).expect(200);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(await requestLine(res.headers['x-request-id'])).toMatchObject({ path: '/ping' });
    }
  });

  it('every line is JSON, Nest’s own included, and the request lines have the same fields', () => {
    const lines = logs.records(); // throws on a line that is not JSON
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => typeof l.level === 'number' && typeof l.time === 'number')).toBe(true);
    expect(lines.some((l) => l.context === 'RoutesResolver')).toBe(true);
    expect(lines.some((l) => l.msg === 'Nest application successfully started')).toBe(true);

    const requests = lines.filter((l) => l.msg === 'request completed');
    expect(requests.length).toBeGreaterThanOrEqual(15);
    for (const line of requests) {
      expect(typeof line.reqId).toBe('string');
      expect(typeof line.method).toBe('string');
      expect(line.path).toMatch(/^\/[^?]*$/);
      expect(typeof line.status).toBe('number');
      expect(typeof line.responseTime).toBe('number');
    }
  });

  it('no token, CSRF token, password or credential header anywhere in the logs', () => {
    const text = logs.lines.join('');
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(15);
      expect(text).not.toContain(secret);
      // Any long piece of it, should a token be logged cut or re-encoded.
      expect(text).not.toContain(secret.slice(3, 30));
    }
    expect(text).not.toMatch(/authorization|cookie|x-csrf-token|"headers"|access_token|"body"/i);
  });

  it('LOG_LEVEL=silent writes nothing, and an app started later in the process gets its own destination', async () => {
    await running.close();
    const before = logs.lines.length;
    const quiet = new CapturedLogs();
    running = await startApp({ LOG_LEVEL: 'silent' }, quiet);
    await running.http.get('/ping').expect(200);
    await running.http.get('/auth/me').expect(401);
    await new Promise((r) => setTimeout(r, 50));
    expect(quiet.lines).toEqual([]);
    expect(logs.lines.length).toBe(before);
  });
});
