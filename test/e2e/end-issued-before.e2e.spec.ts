import { login, LoggedIn, registerAndLogin, resetDatabase, RunningApp, sql, startApp, uniqueEmail } from '../support/app-harness';
import { sleep } from '../support/timing';

const BEARER = { type: 'bearer' } as const;
const ROUTE = '/admin/sessions/end-issued-before';

/** The operators' step after restoring PostgreSQL from a backup: end every session issued before a moment. */
describe('POST /admin/sessions/end-issued-before', () => {
  let running: RunningApp;
  const adminEmail = uniqueEmail('admin');

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({ ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: 'admin password 1' });
  });
  afterAll(() => running.close());

  /** A fresh admin session: issued after any moment a test picked so far. */
  const adminLogin = () => login(running.http, adminEmail, 'admin password 1');
  /** A moment strictly between what happened before the call and what happens after it. */
  async function momentNow(): Promise<Date> {
    await sleep(5);
    const moment = new Date();
    await sleep(5);
    return moment;
  }
  const works = async (user: LoggedIn) => (await running.http.get('/ping/secure').auth(user.accessToken, BEARER)).status === 200;

  it('ends the sessions issued before the moment, of every user: their access and refresh tokens are refused; later ones work', async () => {
    const older = await registerAndLogin(running.http);
    const olderSecond = await login(running.http, older.email, older.password);
    const moment = await momentNow();
    const newer = await registerAndLogin(running.http);
    const olderLater = await login(running.http, older.email, older.password);

    const admin = await adminLogin();
    const res = await running.http.post(ROUTE).auth(admin.accessToken, BEARER).send({ before: moment.toISOString() }).expect(200);
    expect(res.body).toEqual({ revoked: 2, before: moment.toISOString() });

    for (const ended of [older, olderSecond]) {
      await running.http.get('/auth/me').auth(ended.accessToken, BEARER).expect(401);
      await running.http.post('/auth/refresh').send({ refreshToken: ended.refreshToken }).expect(401);
    }
    for (const alive of [newer, olderLater]) {
      await running.http.get('/auth/me').auth(alive.accessToken, BEARER).expect(200);
      await running.http.post('/auth/refresh').send({ refreshToken: alive.refreshToken }).expect(200);
    }
    const [row] = await sql<{ revoked_reason: string; ended_at: Date }>('SELECT revoked_reason, ended_at FROM sessions WHERE id = $1', [older.sessionId]);
    expect(row.revoked_reason).toBe('not_before');
    expect(row.ended_at.getTime()).toBeGreaterThan(moment.getTime());
  });

  it('takes any time zone, records a `revoked` audit entry (not_before) by the admin, and a second call ends nothing more', async () => {
    const user = await registerAndLogin(running.http);
    const moment = await momentNow();
    // The same moment two hours east of UTC.
    const local = new Date(moment.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const admin = await adminLogin();
    // The sessions earlier tests left open count too.
    const [{ n }] = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM sessions WHERE created_at < $1 AND revoked_at IS NULL AND ended_at IS NULL',
      [moment],
    );
    const res = await running.http.post(ROUTE).auth(admin.accessToken, BEARER).send({ before: local }).expect(200);
    expect(res.body).toEqual({ revoked: n, before: moment.toISOString() });
    expect(await works(user)).toBe(false);

    const audit = await running.http.get(`/admin/audit?userId=${user.userId}&type=revoked`).auth(admin.accessToken, BEARER).expect(200);
    expect(audit.body.items).toEqual([expect.objectContaining({ sessionId: user.sessionId, actorId: admin.userId, detail: 'not_before' })]);

    const again = await running.http.post(ROUTE).auth(admin.accessToken, BEARER).send({ before: local }).expect(200);
    expect(again.body.revoked).toBe(0);
  });

  it('400 for a body that is missing, not a moment with a time zone, or in the future; nothing ends', async () => {
    const user = await registerAndLogin(running.http);
    await sleep(5);
    const admin = await adminLogin();
    const future = new Date(Date.now() + 60_000).toISOString();
    const bad: Array<[body: unknown, message: string | RegExp]> = [
      [{}, /ISO 8601/],
      [{ before: null }, /ISO 8601/],
      [{ before: 1764583200000 }, /ISO 8601/],
      [{ before: 'yesterday' }, /ISO 8601/],
      [{ before: '2026-12-01' }, /ISO 8601/],
      [{ before: '2026-12-01T10:00:00' }, /ISO 8601/], // no time zone: whose ten o'clock?
      [{ before: '2026-12-01 10:00:00Z' }, /ISO 8601/],
      [{ before: '2026-02-30T10:00:00Z' }, /ISO 8601/],
      [{ before: '2026-12-01T25:00:00Z' }, /ISO 8601/],
      [{ before: ['2026-12-01T10:00:00Z'] }, /ISO 8601/],
      [{ before: '2026-12-01T10:00:00Z', userId: 'x' }, /should not exist/],
      [{ before: future }, 'before must not be in the future'],
    ];
    for (const [body, message] of bad) {
      const res = await running.http.post(ROUTE).auth(admin.accessToken, BEARER).send(body as object);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const text = Array.isArray(res.body.message) ? res.body.message.join('; ') : res.body.message;
      expect(text).toMatch(message);
    }
    expect(await works(user)).toBe(true);
    expect(await works(admin)).toBe(true);
  });

  it('401 without a session and 403 for a non-admin, who ends nothing', async () => {
    const user = await registerAndLogin(running.http);
    const later = new Date(Date.now()).toISOString();
    await running.http.post(ROUTE).send({ before: later }).expect(401);
    const res = await running.http.post(ROUTE).auth(user.accessToken, BEARER).send({ before: later });
    expect(res.status).toBe(403);
    expect(await works(user)).toBe(true);
  });
});
