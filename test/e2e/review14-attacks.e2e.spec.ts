import { randomBytes } from 'node:crypto';
import { CapturedLogs, login, registerAndLogin, resetDatabase, RunningApp, sql, startApp, uniqueEmail, type LoggedIn } from '../support/app-harness';

/**
 * Review 14: attacks from outside on the operator features (role changes, per-user limit,
 * metrics). Two instances on one Redis, as in user-roles.e2e.spec.ts.
 */
const BEARER = { type: 'bearer' } as const;

describe('review 14: PATCH /admin/users/:userId under attack', () => {
  let a: RunningApp;
  let b: RunningApp;
  let root: LoggedIn;
  const rootEmail = uniqueEmail('r14-root');

  beforeAll(async () => {
    await resetDatabase();
    const prefix = `r14${randomBytes(4).toString('hex')}:`;
    a = await startApp({ REDIS_KEY_PREFIX: prefix, ADMIN_EMAIL: rootEmail, ADMIN_PASSWORD: 'admin password 1' });
    b = await startApp({ REDIS_KEY_PREFIX: prefix });
    root = await login(a.http, rootEmail, 'admin password 1');
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const patch = (app: RunningApp, token: string, userId: string, body: unknown) =>
    app.http.patch(`/admin/users/${userId}`).auth(token, BEARER).send(body as object);

  const sessionRoles = async (userId: string) =>
    (await sql<{ roles: string[] }>(`SELECT roles FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND revoked_at IS NULL`, [userId])).map((r) => r.roles);
  const userRoles = async (userId: string) => (await sql<{ roles: string[] }>(`SELECT roles FROM users WHERE id = $1`, [userId]))[0].roles;

  it('odd bodies are 400, never 5xx, and change nothing', async () => {
    const user = await registerAndLogin(a.http);
    const bodies: unknown[] = [
      { roles: ['Admin'.replace('A', '\u0410')] }, // Cyrillic A
      { roles: ['аdmin'] },
      { roles: ['admin\u0000'] },
      { roles: ['admin\n'] },
      { roles: [' admin'] },
      { roles: ['admin', 'admin'] },
      { roles: Array.from({ length: 33 }, (_, i) => `r${i}`) },
      { roles: ['x'.repeat(65)] },
      { roles: [''] },
      { roles: 'admin' },
      { roles: { 0: 'admin', length: 1 } },
      { roles: [['admin']] },
      { roles: [{ toString: 'admin' }] },
      { roles: [1] },
      { roles: [null] },
      { roles: null },
      {},
      { roles: ['admin'], email: 'evil@example.com' },
      { roles: ['admin'], id: '00000000-0000-0000-0000-000000000000' },
      { roles: ['admin'], passwordHash: 'x' },
      JSON.parse('{"roles":["admin"],"__proto__":{"isAdmin":true}}'),
      { roles: ['admin'], constructor: { prototype: { x: 1 } } },
    ];
    for (const body of bodies) {
      const res = await patch(a, root.accessToken, user.userId, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    for (const raw of ['[]', '"admin"', 'null', '[{"roles":["admin"]}]', '{"roles":["admin"]', '1']) {
      const res = await a.http.patch(`/admin/users/${user.userId}`).auth(root.accessToken, BEARER).set('Content-Type', 'application/json').send(raw);
      expect({ raw, status: res.status }).toEqual({ raw, status: 400 });
    }
    for (const id of ['not-a-uuid', '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', `${user.userId.toUpperCase()}`, '%00', "1' OR '1'='1"]) {
      const res = await patch(a, root.accessToken, encodeURIComponent(id), { roles: [] });
      expect(res.status, id).toBeLessThan(500);
    }
    expect(await userRoles(user.userId)).toEqual([]);
    // A big array is 413 or 400, not 5xx.
    const big = await patch(a, root.accessToken, user.userId, { roles: Array.from({ length: 20000 }, () => 'a') });
    expect([400, 413]).toContain(big.status);
  });

  it('a non-admin cannot promote itself; CSRF is needed with the access cookie', async () => {
    const user = await registerAndLogin(a.http);
    await patch(a, user.accessToken, user.userId, { roles: ['admin'] }).expect(403);
    // Admin by cookie without X-CSRF-Token: 403.
    const res = await a.http.post('/auth/login').send({ email: rootEmail, password: 'admin password 1' }).expect(200);
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    const access = cookies.find((c) => c.startsWith('__Host-access='))!.split(';')[0];
    await a.http.patch(`/admin/users/${user.userId}`).set('Cookie', access).send({ roles: ['admin'] }).expect(403);
    expect(await userRoles(user.userId)).toEqual([]);
  });

  it('two admins demoting each other at once never leave zero admins (20 rounds)', async () => {
    for (let round = 0; round < 20; round++) {
      const x = await registerAndLogin(a.http);
      const y = await registerAndLogin(b.http);
      await patch(a, root.accessToken, x.userId, { roles: ['admin'] }).expect(200);
      await patch(a, root.accessToken, y.userId, { roles: ['admin'] }).expect(200);
      // root steps down so only x and y are admins.
      await patch(a, x.accessToken, root.userId, { roles: [] }).expect(200);
      const [r1, r2] = await Promise.all([patch(a, x.accessToken, y.userId, { roles: [] }), patch(b, y.accessToken, x.userId, { roles: [] })]);
      const admins = await sql(`SELECT id FROM users WHERE 'admin' = ANY(roles)`);
      // The second is 409 (the last admin) or, since it runs after its actor was demoted, 403.
      const statuses = [r1.status, r2.status].sort();
      expect({ round, first: statuses[0], secondRefused: [403, 409].includes(statuses[1]), admins: admins.length }).toEqual({ round, first: 200, secondRefused: true, admins: 1 });
      // put root back
      const left = (admins[0] as { id: string }).id === x.userId ? x : y;
      await patch(a, left.accessToken, root.userId, { roles: ['admin'] }).expect(200);
      await sql(`UPDATE users SET roles = '{}' WHERE id = ANY($1)`, [[x.userId, y.userId]]);
    }
  });

  it('two admins changing one user at once: the live sessions end with the roles the users row has (20 rounds)', async () => {
    const other = await registerAndLogin(a.http);
    await patch(a, root.accessToken, other.userId, { roles: ['admin'] }).expect(200);
    const mismatches: unknown[] = [];
    for (let round = 0; round < 20; round++) {
      const target = await registerAndLogin(a.http);
      await Promise.all([
        patch(a, root.accessToken, target.userId, { roles: ['admin'] }).expect(200),
        patch(b, other.accessToken, target.userId, { roles: ['viewer'] }).expect(200),
      ]);
      const stored = await userRoles(target.userId);
      const live = await sessionRoles(target.userId);
      if (live.some((r) => JSON.stringify(r) !== JSON.stringify(stored))) mismatches.push({ round, stored, live });
      // And what the instances answer agrees with the users row.
      const status = (await b.http.get('/admin/sessions?limit=1').auth(target.accessToken, BEARER)).status;
      if ((status === 200) !== stored.includes('admin')) mismatches.push({ round, stored, status });
    }
    expect(mismatches).toEqual([]);
  });

  it('a demoted admin cannot undo its demotion with a request racing it on another instance (20 rounds)', async () => {
    const undone: number[] = [];
    for (let round = 0; round < 20; round++) {
      const victim = await registerAndLogin(b.http);
      await patch(a, root.accessToken, victim.userId, { roles: ['admin'] }).expect(200);
      // The victim fires self-promotions on B, back to back, while root demotes it on A.
      let stop = false;
      const spam = (async () => {
        while (!stop) await patch(b, victim.accessToken, victim.userId, { roles: ['admin'] });
      })();
      await new Promise((r) => setTimeout(r, 5 + (round % 5) * 3));
      await patch(a, root.accessToken, victim.userId, { roles: [] }).expect(200);
      stop = true;
      await spam;
      await new Promise((r) => setTimeout(r, 50));
      const status = (await a.http.get('/admin/sessions?limit=1').auth(victim.accessToken, BEARER)).status;
      if ((await userRoles(victim.userId)).includes('admin') || status === 200) undone.push(round);
    }
    expect(undone).toEqual([]);
  });
});

describe('review 14: per-user limit, metrics and new-device details under attack', () => {
  let app: RunningApp;
  const logs = new CapturedLogs();
  const LIMIT = 6;

  beforeAll(async () => {
    app = await startApp({ THROTTLE_USER_LIMIT: String(LIMIT), THROTTLE_USER_TTL: '60', THROTTLE_LIMIT: '8', LOG_LEVEL: 'info' }, logs);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('several sessions of one user share its count; another user is not touched; a 429 has one Retry-After', async () => {
    const user = await registerAndLogin(app.http);
    const second = await login(app.http, user.email, user.password);
    const other = await registerAndLogin(app.http);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const token = i % 2 ? second.accessToken : user.accessToken;
      const res = await app.http.get(i % 3 ? '/auth/me' : '/auth/sessions').auth(token, BEARER);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toEqual({ statusCode: 429, message: expect.any(String), error: 'Too Many Requests' });
        const raw = res.headers['retry-after'] as string | string[];
        expect(typeof raw).toBe('string');
        expect(raw).toMatch(/^\d+$/);
        expect(Object.keys(res.headers).filter((h) => h.toLowerCase().startsWith('retry-after'))).toEqual(['retry-after']);
      }
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(200));
    // Both the per-address limit (8 per route) and the per-user one are past on /auth/me now: still one Retry-After.
    for (let i = 0; i < 10; i++) {
      const res = await app.http.get('/auth/me').auth(user.accessToken, BEARER);
      if (res.status === 429) expect(res.headers['retry-after']).toMatch(/^\d+$/);
    }
    await app.http.get('/ping/secure').auth(other.accessToken, BEARER).expect(200);
  });

  it('/metrics keeps no user input in labels: random paths, methods, bad tokens', async () => {
    const before = (await app.http.get('/metrics').expect(200)).text.split('\n').length;
    for (let i = 0; i < 30; i++) {
      const junk = randomBytes(6).toString('hex');
      await app.http.get(`/nope-${junk}/x`);
      await app.http.get(`/auth/sessions/${junk}`).auth(`tok-${junk}`, BEARER);
      await app.http.get(`/admin/x-${junk}`);
      await app.http.get('/ping/secure').auth(`${junk}.${junk}`, BEARER);
    }
    const text = (await app.http.get('/metrics').expect(200)).text;
    // A handful of new series at most (new status codes/routes), not one per request.
    expect(text.split('\n').length - before).toBeLessThan(200);
    expect(text).not.toMatch(/nope-|tok-|x-[0-9a-f]{12}|@example\.com/);
  });

  it('new_device: the audit detail, the event log line and the stats hold no device id, token or full address; control characters stay escaped', async () => {
    const user = await registerAndLogin(app.http);
    const deviceId = `dev-${randomBytes(8).toString('hex')}`;
    const res = await app.http
      .post('/auth/login')
      .set('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0')
      .set('X-Device-Id', deviceId)
      .send({ email: user.email, password: user.password, deviceName: 'evil\u2028name\u001b[31m\u009b\u202egpj.exe' });
    expect([200, 400]).toContain(res.status);
    if (res.status !== 200) return;
    const audit = () => sql<{ detail: string | null }>(`SELECT detail FROM session_audit WHERE type = 'new_device' AND user_id = $1`, [user.userId]);
    await expect.poll(async () => (await audit()).length, { timeout: 3000 }).toBe(1);
    const admin = await audit();
    const lines = logs.lines.filter((l) => l.includes(user.userId));
    expect(lines.some((l) => l.includes('new sign-in'))).toBe(true);
    const blob = JSON.stringify(admin) + lines.join('');
    expect(blob).not.toContain(deviceId);
    expect(blob).not.toContain(res.body.accessToken);
    expect(blob).not.toContain(res.body.refreshToken);
    for (const line of lines) expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const [row] = await sql<{ device_name: string }>(`SELECT device_name FROM sessions WHERE id = $1`, [res.body.sessionId]);
    expect(row.device_name).toBe('evilname[31mgpj.exe');
    expect(admin[0].detail).not.toMatch(/[\u0000-\u001f]/);
  });
});
