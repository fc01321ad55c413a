import type { Test } from 'supertest';
import { login, registerAndLogin, resetDatabase, RunningApp, startApp, uniqueEmail } from '../support/app-harness';
import { sumOf } from '../support/prometheus-text';
import { sleep } from '../support/timing';

const BEARER = { type: 'bearer' } as const;

/** The value of one Prometheus series with exactly these labels (0 when absent). */
function series(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inner = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    const have = inner ? inner.split(/,(?=[a-z_]+=")/) : [];
    if (have.length === wanted.length && wanted.every((w) => have.includes(w))) return Number(line.split(' ').pop());
  }
  return 0;
}

describe('operations: health, metrics, statistics and the audit trail', () => {
  let running: RunningApp;
  let admin: { accessToken: string; userId: string };
  const adminEmail = uniqueEmail('ops-admin');
  const asAdmin = (req: Test) => req.auth(admin.accessToken, BEARER);

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({ ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: 'admin password 1', SESSION_REFRESH_GRACE: '0' });
    admin = await login(running.http, adminEmail, 'admin password 1');
  });
  afterAll(() => running.close());

  describe('GET /health', () => {
    it('200 with the database and the cache up (Redis)', async () => {
      const res = await running.http.get('/health').expect(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        info: { database: { status: 'up' }, cache: { status: 'up', backend: 'redis' } },
      });
    });

    it('Redis down: still 200, the cache reported down', async () => {
      const app = await startApp({ REDIS_URL: 'redis://127.0.0.1:1/0' });
      try {
        const res = await app.http.get('/health').expect(200);
        expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, cache: { status: 'down', backend: 'redis' } } });
      } finally {
        await app.close();
      }
    });

    it('without Redis the in-process cache is up', async () => {
      const app = await startApp({ REDIS_URL: undefined });
      try {
        const res = await app.http.get('/health').expect(200);
        expect(res.body.info.cache).toEqual({ status: 'up', backend: 'memory' });
      } finally {
        await app.close();
      }
    });
  });

  describe('GET /metrics', () => {
    it('is Prometheus text with the session series, which count what happens', async () => {
      const before = (await running.http.get('/metrics').expect(200)).text;
      const user = await registerAndLogin(running.http);
      await running.http.post('/auth/login').send({ email: user.email, password: 'wrong password!' }).expect(401);
      for (let i = 0; i < 3; i++) await running.http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
      await running.http.get('/ping/secure').auth('sa_forged', BEARER).expect(401);
      const refreshed = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401); // reuse
      const again = await login(running.http, user.email, user.password);
      await running.http.post('/auth/logout').auth(again.accessToken, BEARER).expect(204);
      expect(refreshed.body.sessionId).toBe(user.sessionId);

      const res = await running.http.get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const after = res.text;
      const delta = (name: string, labels: Record<string, string>) => series(after, name, labels) - series(before, name, labels);
      expect(delta('session_logins_total', { result: 'success' })).toBe(2);
      expect(delta('session_logins_total', { result: 'failure' })).toBe(1);
      expect(delta('session_validations_total', { result: 'valid' })).toBeGreaterThanOrEqual(4);
      expect(delta('session_validations_total', { result: 'malformed' })).toBe(1);
      expect(delta('session_refreshes_total', { result: 'success' })).toBe(1);
      expect(delta('session_refreshes_total', { result: 'reuse' })).toBe(1);
      expect(delta('session_revocations_total', { reason: 'reuse_detected' })).toBe(1);
      expect(delta('session_revocations_total', { reason: 'logout' })).toBe(1);
      const lookups = (text: string) => sumOf(text, 'session_cache_requests_total', { result: 'hit' }) + sumOf(text, 'session_cache_requests_total', { result: 'miss' });
      expect(lookups(after) - lookups(before)).toBeGreaterThanOrEqual(4);
      expect(after).toMatch(/^sessions_active \d+$/m);
      expect(series(after, 'sessions_active')).toBeGreaterThanOrEqual(1);
      // HTTP durations by route template, never by raw path.
      expect(series(after, 'http_request_duration_seconds_count', { method: 'GET', route: '/ping/secure', status_code: '200' })).toBeGreaterThanOrEqual(3);
      expect(after).not.toMatch(/route="\/auth\/sessions\/[0-9a-f]{8}-/);
      expect(after).toMatch(/^process_cpu_seconds_total /m);
      // Never a token, of course.
      for (const token of [user.accessToken, user.refreshToken, refreshed.body.accessToken]) expect(after).not.toContain(token);
    });

    it('labels a request that matched no route "unmatched"', async () => {
      await running.http.get('/no/such/route/42').expect(404);
      const text = (await running.http.get('/metrics')).text;
      expect(series(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain('/no/such/route');
    });
  });

  describe('GET /admin/sessions/stats', () => {
    it('401 without a session, 403 for a non-admin', async () => {
      await running.http.get('/admin/sessions/stats').expect(401);
      const user = await registerAndLogin(running.http);
      await running.http.get('/admin/sessions/stats').auth(user.accessToken, BEARER).expect(403);
    });

    it('counts what happened in the last 24 hours', async () => {
      const before = (await asAdmin(running.http.get('/admin/sessions/stats')).expect(200)).body;
      expect(Object.keys(before).sort()).toEqual(
        [
          'active',
          'averageDurationSeconds',
          'createdLast24h',
          'expiredLast24h',
          'loginFailuresLast24h',
          'loginFailuresByAccountLast24h',
          'migratedLast24h',
          'online',
          'onlineUsers',
          'peakConcurrent',
          'reuseDetectedLast24h',
          'hijackSuspectedLast24h',
          'newDeviceLoginsLast24h',
          'throttledLast24h',
          'revokedLast24h',
        ].sort(),
      );
      const a = await registerAndLogin(running.http);
      const b = await login(running.http, a.email, a.password);
      await login(running.http, a.email, a.password);
      await running.http.post('/auth/login').send({ email: a.email, password: 'wrong password!' }).expect(401);
      await running.http.post('/auth/login').send({ email: uniqueEmail('nobody'), password: 'wrong password!' }).expect(401);
      await running.http.post('/auth/logout').auth(b.accessToken, BEARER).expect(204);
      await running.http.post('/auth/refresh').send({ refreshToken: a.refreshToken }).expect(200);
      await running.http.post('/auth/refresh').send({ refreshToken: a.refreshToken }).expect(401); // reuse: a's session revoked

      const after = (await asAdmin(running.http.get('/admin/sessions/stats')).expect(200)).body;
      expect(after.createdLast24h - before.createdLast24h).toBe(3);
      expect(after.revokedLast24h - before.revokedLast24h).toBe(2);
      expect(after.active - before.active).toBe(1);
      expect(after.loginFailuresLast24h - before.loginFailuresLast24h).toBe(2);
      // Per account: a's one failure; the unknown email's is in the total only.
      expect(after.loginFailuresByAccountLast24h).toContainEqual({ userId: a.userId, failures: 1 });
      expect(after.reuseDetectedLast24h - before.reuseDetectedLast24h).toBe(1);
      expect(after.peakConcurrent).toBeGreaterThanOrEqual(after.active);
      expect(after.averageDurationSeconds).toBeGreaterThanOrEqual(0);
    });

    it('expired sessions are counted, get an `expired` audit entry, and the peak remembers the busiest moment', async () => {
      const app = await startApp({ ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: 'admin password 1', SESSION_REFRESH_TTL: '2', SESSION_ACCESS_TTL: '2' });
      try {
        const a = await registerAndLogin(app.http);
        await login(app.http, a.email, a.password);
        await login(app.http, a.email, a.password);
        const adminHere = await login(app.http, adminEmail, 'admin password 1');
        const first = (await app.http.get('/admin/sessions/stats').auth(adminHere.accessToken, BEARER).expect(200)).body;
        expect(first.peakConcurrent).toBeGreaterThanOrEqual(4);
        await sleep(2_300);
        // The admin's own session ran out as well: log in again.
        const adminLater = await login(app.http, adminEmail, 'admin password 1');
        const later = (await app.http.get('/admin/sessions/stats').auth(adminLater.accessToken, BEARER).expect(200)).body;
        expect(later.expiredLast24h - first.expiredLast24h).toBe(4);
        expect(later.active).toBe(first.active - 3); // four ran out, one new
        expect(later.peakConcurrent).toBeGreaterThanOrEqual(first.peakConcurrent);
        expect(later.averageDurationSeconds).toBeGreaterThan(0); // the sessions of other cases count too
        const audit = (await app.http.get(`/admin/audit?userId=${a.userId}&type=expired`).auth(adminLater.accessToken, BEARER).expect(200)).body;
        expect(audit.total).toBe(3);
        expect(audit.items[0]).toMatchObject({ type: 'expired', userId: a.userId, detail: 'expired', actorId: null });
      } finally {
        await app.close();
      }
    });
  });

  describe('GET /admin/audit', () => {
    it('records every lifecycle event with who, where and why, newest first; never a token', async () => {
      const user = await registerAndLogin(running.http);
      const second = await login(running.http, user.email, user.password);
      await running.http.post('/auth/login').set('User-Agent', 'Curl/8').send({ email: user.email, password: 'wrong password!' }).expect(401);
      await running.http.post('/auth/refresh').send({ refreshToken: second.refreshToken }).expect(200);
      await asAdmin(running.http.delete(`/admin/sessions/${second.sessionId}`)).expect(204);
      await running.http.post('/auth/logout').auth(user.accessToken, BEARER).expect(204);

      const res = await asAdmin(running.http.get(`/admin/audit?userId=${user.userId}`)).expect(200);
      expect(res.body).toMatchObject({ page: 1, limit: 20, total: 6 });
      expect(res.body.items.map((e: { type: string }) => e.type)).toEqual(['logout', 'revoked', 'refresh', 'login_failed', 'login', 'login']);
      const [logout, revoked, refresh, failedLogin, login2] = res.body.items;
      expect(logout).toMatchObject({ userId: user.userId, sessionId: user.sessionId, actorId: user.userId, detail: 'logout' });
      expect(revoked).toMatchObject({ sessionId: second.sessionId, actorId: admin.userId, detail: 'revoked_by_admin' });
      expect(refresh).toMatchObject({ sessionId: second.sessionId, actorId: null });
      // A failed login against the account is in its trail, with its id (never a session).
      expect(failedLogin).toMatchObject({ userId: user.userId, sessionId: null, userAgent: 'Curl/8', detail: 'invalid credentials' });
      expect(login2).toEqual({
        type: 'login',
        userId: user.userId,
        sessionId: second.sessionId,
        actorId: null,
        ipAddress: expect.any(String),
        userAgent: expect.stringContaining('Mozilla'),
        at: expect.any(String),
        detail: null,
      });
      expect(Date.parse(login2.at)).toBeLessThanOrEqual(Date.parse(logout.at));
      await running.http.post('/auth/login').set('User-Agent', 'Curl/8').send({ email: uniqueEmail('ghost'), password: 'wrong password!' }).expect(401);
      const failed = await asAdmin(running.http.get('/admin/audit?type=login_failed&limit=1')).expect(200);
      expect(failed.body.items[0]).toMatchObject({ type: 'login_failed', userId: null, sessionId: null, userAgent: 'Curl/8', detail: 'invalid credentials' });
      const raw = JSON.stringify((await asAdmin(running.http.get('/admin/audit?limit=100')).expect(200)).body);
      for (const token of [user.accessToken, user.refreshToken, second.accessToken, second.refreshToken]) expect(raw).not.toContain(token);
    });

    it('filters by type and pages', async () => {
      const user = await registerAndLogin(running.http);
      for (let i = 0; i < 2; i++) await login(running.http, user.email, user.password);
      const page2 = await asAdmin(running.http.get(`/admin/audit?userId=${user.userId}&type=login&limit=2&page=2`)).expect(200);
      expect(page2.body).toMatchObject({ total: 3, page: 2, limit: 2 });
      expect(page2.body.items).toHaveLength(1);
    });

    it('a throttled login is recorded', async () => {
      const app = await startApp({ ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: 'admin password 1', THROTTLE_LOGIN_LIMIT: '2', TRUST_PROXY: 'true' });
      try {
        const adminHere = await login(app.http, adminEmail, 'admin password 1');
        for (let i = 0; i < 3; i++) await app.http.post('/auth/login').set('X-Forwarded-For', '198.51.100.77').send({ email: uniqueEmail(), password: 'wrong password!' });
        const res = await app.http.get('/admin/audit?type=throttled').auth(adminHere.accessToken, BEARER).expect(200);
        expect(res.body.items[0]).toMatchObject({ type: 'throttled', ipAddress: '198.51.100.77', userId: null });
      } finally {
        await app.close();
      }
    });

    it('400 for a bad filter, 401 without a session, 403 for a non-admin', async () => {
      await asAdmin(running.http.get('/admin/audit?type=nonsense')).expect(400);
      await asAdmin(running.http.get('/admin/audit?limit=101')).expect(400);
      await asAdmin(running.http.get('/admin/audit?page=0')).expect(400);
      await asAdmin(running.http.get('/admin/audit?extra=1')).expect(400);
      await running.http.get('/admin/audit').expect(401);
      const user = await registerAndLogin(running.http);
      await running.http.get('/admin/audit').auth(user.accessToken, BEARER).expect(403);
    });
  });
});
