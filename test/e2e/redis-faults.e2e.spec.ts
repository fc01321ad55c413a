import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SessionStore } from '../../src/session';
import { hashToken } from '../../src/session/tokens';
import { sessionCacheKey } from '../../src/session/adapters/redis/redis-cache.tier';
import { login, registerAndLogin, resetDatabase, RunningApp, startApp } from '../support/app-harness';
import { recordStatements } from '../support/pg-statements';
import { PrivateRedis } from '../support/private-redis';
import { sleep, within } from '../support/timing';

const BEARER = { type: 'bearer' } as const;

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** Two instances sharing PostgreSQL and a private Redis that the tests kill, freeze and restart. */
describe('Redis faults and many instances', () => {
  let redis: PrivateRedis;
  let a: RunningApp;
  let b: RunningApp;
  const prefix = `f${randomBytes(3).toString('hex')}:`;

  const status = async (app: RunningApp, token: string) => (await app.http.get('/ping/secure').auth(token, BEARER)).status;

  beforeAll(async () => {
    await resetDatabase();
    redis = await PrivateRedis.create();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix };
    a = await startApp(env);
    b = await startApp(env);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.destroy();
  });

  afterEach(async () => {
    redis.thaw();
  });

  it('normal operation: a revocation on one instance is refused by the other within 100 ms (L1 invalidated over pub/sub)', async () => {
    const lags: number[] = [];
    for (let i = 0; i < 15; i++) {
      const user = await registerAndLogin(a.http);
      // Warm both instances' caches (L1 and Redis).
      for (let j = 0; j < 3; j++) {
        expect(await status(a, user.accessToken)).toBe(200);
        expect(await status(b, user.accessToken)).toBe(200);
      }
      await a.http.post('/auth/logout').auth(user.accessToken, BEARER).expect(204);
      lags.push(await within(2000, async () => (await status(b, user.accessToken)) === 401));
    }
    console.log(`cross-instance revocation lag (ms): p50 ${lags.sort((x, y) => x - y)[7].toFixed(1)}, max ${Math.max(...lags).toFixed(1)}`);
    expect(Math.max(...lags)).toBeLessThan(100);
  });

  it('a warm session validates with no SQL; concurrent misses of one session cost at most two queries', async () => {
    const user = await registerAndLogin(a.http);
    const store = a.app.get(SessionStore, { strict: false });
    const finds = vi.spyOn(store, 'findByAccessHash');
    const queries = recordStatements();
    try {
      const burst = await Promise.all(Array.from({ length: 20 }, () => status(a, user.accessToken)));
      expect(burst.every((s) => s === 200)).toBe(true);
      // One read under way, and one that every miss arriving meanwhile shares (a miss never shares a
      // read that began before it: SharedReads).
      expect(finds.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(finds.mock.calls.length).toBeLessThanOrEqual(2);
      queries.on = true;
      for (let i = 0; i < 50; i++) expect(await status(a, user.accessToken)).toBe(200);
      queries.on = false;
      // Background work may land meanwhile — the audit trail's batch writes of earlier events, and
      // the cache's reconciliation rounds (`revokedAccessSince`, every interval / 4 on the instance
      // holding the lease; a busy machine stretches 50 requests over one) — no other statement may.
      const background = (sql: string) => sql.includes('session_audit') || sql.includes(') AS revoked');
      expect(queries.texts.filter((sql) => !background(sql))).toEqual([]);
    } finally {
      finds.mockRestore();
      queries.restore();
    }
  });

  it('Redis killed: validation falls back to PostgreSQL (p99 < 500 ms), login, refresh and revocation work, no 5xx; all heals on restart', async () => {
    const user = await registerAndLogin(a.http);
    const other = await login(a.http, user.email, user.password);
    expect(await status(a, user.accessToken)).toBe(200);
    expect(await status(b, other.accessToken)).toBe(200);

    await redis.stop();

    const samples: number[] = [];
    for (let i = 0; i < 150; i++) {
      const started = performance.now();
      expect(await status(i % 2 ? a : b, user.accessToken)).toBe(200);
      samples.push(performance.now() - started);
    }
    console.log(`validation while Redis is down: p99 ${p99(samples).toFixed(1)} ms`);
    expect(p99(samples)).toBeLessThan(500);

    const fresh = await login(b.http, user.email, user.password);
    const refreshed = await a.http.post('/auth/refresh').send({ refreshToken: fresh.refreshToken }).expect(200);
    await b.http.delete(`/auth/sessions/${other.sessionId}`).auth(user.accessToken, BEARER).expect(204);
    expect(await status(a, other.accessToken)).toBe(401);
    expect(await status(b, other.accessToken)).toBe(401);
    expect(await status(a, refreshed.body.accessToken)).toBe(200);
    await b.http.post('/auth/login').send({ email: user.email, password: 'wrong password' }).expect(401);

    await redis.start();
    // Healed: the revoked token stays refused everywhere, and Redis holds its revocation mark.
    const probe = new Redis(redis.url).on('error', () => undefined);
    try {
      const delivered = await within(2000, async () => (await probe.get(sessionCacheKey(prefix, hashToken(other.accessToken)))) === '!');
      expect(delivered).toBeLessThan(2000);
    } finally {
      probe.disconnect();
    }
    expect(await status(a, other.accessToken)).toBe(401);
    expect(await status(b, other.accessToken)).toBe(401);
    expect(await status(b, user.accessToken)).toBe(200);
  });

  it('Redis frozen (SIGSTOP): validations stay fast, a revocation during the freeze is refused everywhere within 2 s, and after the thaw too', async () => {
    const user = await registerAndLogin(a.http);
    const victim = await login(a.http, user.email, user.password);
    for (let j = 0; j < 3; j++) {
      expect(await status(a, victim.accessToken)).toBe(200);
      expect(await status(b, victim.accessToken)).toBe(200);
    }

    redis.freeze();

    const samples: number[] = [];
    for (let i = 0; i < 100; i++) {
      const started = performance.now();
      expect(await status(i % 2 ? a : b, user.accessToken)).toBe(200);
      samples.push(performance.now() - started);
    }
    console.log(`validation while Redis is frozen: p99 ${p99(samples).toFixed(1)} ms`);
    expect(p99(samples)).toBeLessThan(500);

    await a.http.delete(`/auth/sessions/${victim.sessionId}`).auth(user.accessToken, BEARER).expect(204);
    const lagWhileFrozen = await within(2000, async () => (await status(b, victim.accessToken)) === 401);
    console.log(`revocation seen by the other instance while Redis is frozen after ${lagWhileFrozen.toFixed(0)} ms`);
    expect(lagWhileFrozen).toBeLessThan(2000);

    redis.thaw();
    const lagAfterThaw = await within(2000, async () =>
      (await status(a, victim.accessToken)) === 401 && (await status(b, victim.accessToken)) === 401,
    );
    expect(lagAfterThaw).toBeLessThan(2000);
    for (let i = 0; i < 20; i++) {
      expect(await status(b, victim.accessToken)).toBe(401);
      expect(await status(a, victim.accessToken)).toBe(401);
      await sleep(50);
    }
    expect(await status(b, user.accessToken)).toBe(200);
  });

  it('Redis out of memory (noeviction: writes refused, reads and PUBLISH served): a logout is refused by every instance, on every request', async () => {
    const user = await registerAndLogin(a.http);
    const victim = await login(a.http, user.email, user.password);
    for (let j = 0; j < 3; j++) {
      expect(await status(a, victim.accessToken)).toBe(200);
      expect(await status(b, victim.accessToken)).toBe(200);
    }
    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      const fill = admin.pipeline();
      for (let i = 0; i < 2000; i++) fill.set(`oom-fill:${i}`, 'x'.repeat(1024));
      await fill.exec();
      await admin.config('SET', 'maxmemory', '1mb');
      await expect(admin.set('oom-probe', '1')).rejects.toThrow(/OOM/);

      await a.http.post('/auth/logout').auth(victim.accessToken, BEARER).expect(204);
      const answers: number[] = [];
      for (let i = 0; i < 40; i++) {
        answers.push(await status(b, victim.accessToken), await status(a, victim.accessToken));
        await sleep(25);
      }
      expect(answers.filter((answer) => answer !== 401)).toEqual([]);
      expect(await status(b, user.accessToken)).toBe(200);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      const keys = await admin.keys('oom-fill:*');
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
    // Once Redis takes writes again, the marks land and the token stays refused.
    await sleep(500);
    for (let i = 0; i < 10; i++) expect(await status(b, victim.accessToken)).toBe(401);
  });

  it('an instance started while Redis is down starts within seconds, serves from PostgreSQL, and uses Redis once it is up', async () => {
    await redis.stop();
    const startedAt = performance.now();
    const late = await startApp({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix });
    try {
      const startMs = performance.now() - startedAt;
      console.log(`start-up with Redis down: ${startMs.toFixed(0)} ms`);
      expect(startMs).toBeLessThan(10_000);
      const user = await registerAndLogin(late.http);
      expect(await status(late, user.accessToken)).toBe(200);
      await redis.start();
      const key = sessionCacheKey(prefix, hashToken(user.accessToken));
      const probe = new Redis(redis.url);
      try {
        // Once Redis answers again the session is cached there, from the store.
        const cachedAfter = await within(10_000, async () => (await status(late, user.accessToken)) === 200 && (await probe.exists(key)) === 1);
        expect(cachedAfter).toBeLessThan(10_000);
      } finally {
        probe.disconnect();
      }
    } finally {
      await late.close();
    }
  });
});
