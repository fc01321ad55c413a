import { execFile } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Response } from 'supertest';
import { login, registerAndLogin, resetDatabase, RunningApp, sql, startApp, uniqueEmail } from '../support/app-harness';
import { ExpressSessionApp, startExpressSessionApp } from '../support/express-session-app';
import { TEST_REDIS_URL } from '../support/test-env';

const LEGACY_SECRET = 'the-old-express-session-secret';
const BEARER = { type: 'bearer' } as const;

/** The value of a cookie the response sets, if it sets it. */
function setCookie(res: Response, name: string): string | undefined {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  const line = header?.find((c) => c.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';')[0];
}

/** A `connect.sid` cookie for `sid` signed as express-session signs it, with `secret`. */
function signed(sid: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return `connect.sid=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

/**
 * Moving from express-session + connect-redis: a user logged in to the old app (a real one,
 * sharing this app's Redis) is still logged in after the switch — their first request upgrades
 * the legacy session to a session of this module.
 */
describe('legacy express-session sessions are upgraded on first use', () => {
  const prefix = `legacy${randomBytes(3).toString('hex')}:`;
  const adminEmail = uniqueEmail('admin');
  let running: RunningApp;
  let legacy: ExpressSessionApp;
  let redis: Redis;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({
      LEGACY_SESSION_SECRET: `another-rotated-secret,${LEGACY_SECRET}`,
      LEGACY_SESSION_PREFIX: prefix,
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: 'admin password 1',
    });
    legacy = await startExpressSessionApp({ redisUrl: TEST_REDIS_URL, prefix, secret: LEGACY_SECRET });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await running.close();
    await legacy.close();
    redis.disconnect();
  });

  const sessionsOf = async (userId: string) => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [userId]))[0].n;
  const sidOf = (cookie: string) => decodeURIComponent(cookie.slice('connect.sid='.length)).slice(2).split('.')[0];

  it('answers the first request as the legacy user, sets this module’s cookies, and the legacy entry lives only for the grace', async () => {
    const user = await registerAndLogin(running.http);
    const cookie = await legacy.login(user.userId);
    const res = await running.http.get('/auth/me').set('Cookie', cookie).expect(200);
    expect(res.body.user).toMatchObject({ id: user.userId, email: user.email });
    const access = setCookie(res, '__Host-access');
    expect(access).toMatch(/^sa_/);
    expect(setCookie(res, '__Secure-refresh')).toMatch(/^sr_/);
    expect(setCookie(res, '__Host-csrf')).toBeTruthy();
    // The new session works on its own; the legacy one ends after the grace (10 s).
    const me = await running.http.get('/auth/me').auth(access!, BEARER).expect(200);
    expect(me.body.session.id).toBe(res.body.session.id);
    const ttl = await redis.pttl(prefix + sidOf(cookie));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
    const [entry] = await sql<{ type: string; detail: string }>(
      `SELECT type, detail FROM session_audit WHERE session_id = $1 AND type = 'login'`,
      [res.body.session.id],
    ).catch(() => [] as Array<{ type: string; detail: string }>);
    if (entry) expect(entry.detail).toBe('migrated from express-session');
  });

  it('reads the user id where passport puts it (passport.user)', async () => {
    const user = await registerAndLogin(running.http);
    const cookie = await legacy.login(user.userId, 'passport');
    const res = await running.http.get('/auth/me').set('Cookie', cookie).expect(200);
    expect(res.body.user.id).toBe(user.userId);
  });

  it('parallel first requests with one legacy cookie all succeed, with the same tokens, and open one session', async () => {
    const user = await registerAndLogin(running.http);
    const before = await sessionsOf(user.userId);
    const cookie = await legacy.login(user.userId);
    const responses = await Promise.all(Array.from({ length: 8 }, () => running.http.get('/auth/me').set('Cookie', cookie)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(responses.map((r) => setCookie(r, '__Host-access'))).size).toBe(1);
    expect(new Set(responses.map((r) => r.body.session.id)).size).toBe(1);
    expect(await sessionsOf(user.userId)).toBe(before + 1);
  });

  it('a forged, re-signed, unsigned, tampered or unknown legacy cookie is not a session (401) and opens nothing', async () => {
    const user = await registerAndLogin(running.http);
    const before = await sessionsOf(user.userId);
    const real = await legacy.login(user.userId);
    const sid = sidOf(real);
    const refused = [
      signed(sid, 'not-the-secret'), // re-signed with another key
      `connect.sid=${encodeURIComponent(sid)}`, // unsigned
      `connect.sid=${encodeURIComponent(`s:${sid}.AAAA`)}`, // tampered signature
      signed(`${sid}x`, LEGACY_SECRET), // signed, but no such session
      signed(randomBytes(24).toString('base64url'), LEGACY_SECRET),
      'connect.sid=',
      'connect.sid=%E0%A4%A',
    ];
    for (const cookie of refused) await running.http.get('/auth/me').set('Cookie', cookie).expect(401);
    expect(await sessionsOf(user.userId)).toBe(before);
    // The real one still upgrades (nothing above touched it).
    await running.http.get('/auth/me').set('Cookie', real).expect(200);
  });

  it('a legacy session whose user is gone is not a session', async () => {
    const cookie = await legacy.login(randomUUID());
    await running.http.get('/auth/me').set('Cookie', cookie).expect(401);
  });

  it('an unsafe method does not upgrade (the cookie is sent cross-site too); the next safe request does', async () => {
    const user = await registerAndLogin(running.http);
    const before = await sessionsOf(user.userId);
    const cookie = await legacy.login(user.userId);
    await running.http.post('/auth/logout').set('Cookie', cookie).expect(401);
    await running.http.delete('/auth/sessions').set('Cookie', cookie).expect(401);
    expect(await sessionsOf(user.userId)).toBe(before);
    await running.http.get('/auth/me').set('Cookie', cookie).expect(200);
    expect(await sessionsOf(user.userId)).toBe(before + 1);
  });

  it('a request that carries a token of this module is never upgraded', async () => {
    const user = await registerAndLogin(running.http);
    const before = await sessionsOf(user.userId);
    const cookie = await legacy.login(user.userId);
    const res = await running.http.get('/auth/me').auth(user.accessToken, BEARER).set('Cookie', cookie).expect(200);
    expect(res.body.session.id).toBe(user.sessionId);
    expect(setCookie(res, '__Host-access')).toBeUndefined();
    expect(await sessionsOf(user.userId)).toBe(before);
  });

  it('once the upgraded session is logged out, the legacy cookie (within its grace) does not bring it back', async () => {
    const user = await registerAndLogin(running.http);
    const cookie = await legacy.login(user.userId);
    const res = await running.http.get('/auth/me').set('Cookie', cookie).expect(200);
    const access = setCookie(res, '__Host-access')!;
    await running.http.post('/auth/logout').auth(access, BEARER).expect(204);
    await running.http.get('/auth/me').set('Cookie', cookie).expect(401);
    await running.http.get('/auth/me').auth(access, BEARER).expect(401);
  });

  it('counts upgrades in the statistics (migratedLast24h) and the audit trail (a login, migrated)', async () => {
    const user = await registerAndLogin(running.http);
    const cookie = await legacy.login(user.userId);
    const upgraded = await running.http.get('/auth/me').set('Cookie', cookie).expect(200);
    const admin = await login(running.http, adminEmail, 'admin password 1');
    const stats = await running.http.get('/admin/sessions/stats').auth(admin.accessToken, BEARER).expect(200);
    expect(stats.body.migratedLast24h).toBeGreaterThanOrEqual(1);
    const audit = await running.http.get(`/admin/audit?userId=${user.userId}&type=login`).auth(admin.accessToken, BEARER).expect(200);
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ type: 'login', sessionId: upgraded.body.session.id, detail: 'migrated from express-session' }),
    );
  });

  it('without LEGACY_SESSION_SECRET the bridge is off: a legacy cookie means nothing', async () => {
    const off = await startApp({ LEGACY_SESSION_PREFIX: prefix });
    try {
      const user = await registerAndLogin(off.http);
      const cookie = await legacy.login(user.userId);
      await off.http.get('/auth/me').set('Cookie', cookie).expect(401);
    } finally {
      await off.close();
    }
  });

  it('npm run sessions:legacy-report counts the legacy sessions still waiting (SCAN), and says when the bridge is off', async () => {
    const reportPrefix = `report${randomBytes(3).toString('hex')}:`;
    for (let i = 0; i < 1203; i++) await redis.set(`${reportPrefix}${i}`, '{}', 'EX', 60);
    await redis.set(`other${reportPrefix}x`, '{}', 'EX', 60); // another prefix: not counted
    const run = (env: Record<string, string>) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
        execFile('npm', ['run', '-s', 'sessions:legacy-report'], { cwd: resolve(__dirname, '../..'), env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
          done({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const counted = await run({ LEGACY_SESSION_SECRET: LEGACY_SECRET, LEGACY_SESSION_REDIS_URL: TEST_REDIS_URL, LEGACY_SESSION_PREFIX: reportPrefix });
    expect(counted).toMatchObject({ status: 0 });
    expect(counted.stdout).toContain('1203 express-session sessions waiting to be upgraded');
    const off = await run({ LEGACY_SESSION_SECRET: '', LEGACY_SESSION_REDIS_URL: TEST_REDIS_URL });
    expect(off.status).toBe(2);
    expect(off.stderr).toContain('not configured');
  }, 240_000);
});
