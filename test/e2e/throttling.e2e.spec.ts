import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { registerAndLogin, resetDatabase, RunningApp, startApp, uniqueEmail } from '../support/app-harness';
import { httpBurst } from '../support/http-burst';
import { listenOnFreePort } from '../support/listen';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_REDIS_URL } from '../support/test-env';

const loginLimits = { THROTTLE_LOGIN_LIMIT: '5', THROTTLE_LOGIN_TTL: '60' };
const defaultLimit = { THROTTLE_LIMIT: '100', THROTTLE_TTL: '60' };
/** Each way, between the app and Redis: long enough that a burst arrives while answers are in flight. */
const REDIS_LATENCY_MS = 5;

/** `count` requests to `GET /ping` at once, from another process; how many passed and how many got 429. */
async function burst(baseUrls: string[], count: number): Promise<{ admitted: number; refused: number }> {
  const statuses = await httpBurst(
    baseUrls.map((url) => `${url}/ping`),
    count,
  );
  expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  return { admitted: statuses.filter((s) => s === 200).length, refused: statuses.filter((s) => s === 429).length };
}

/** Names of the answer's headers as sent (repeats kept), lower-cased. */
const headerNames = (res: Response) => {
  const raw = (res as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
  return raw.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
};

/** The contract's 429: its error shape and exactly one `Retry-After` (no `Retry-After-<name>`). */
const expectContract429 = (res: Response, message: string) => {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({ statusCode: 429, message, error: 'Too Many Requests' });
  expect(headerNames(res).filter((name) => name.startsWith('retry-after'))).toEqual(['retry-after']);
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
};

describe('rate limits (Redis-backed @nestjs/throttler storage)', () => {
  const apps: RunningApp[] = [];
  const start = async (env: Record<string, string>) => {
    const app = await startApp(env);
    apps.push(app);
    return app;
  };

  beforeAll(() => resetDatabase());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  it('20 concurrent logins at a limit of 5 let exactly 5 through; the rest get 429 with Retry-After', async () => {
    const { http } = await start(loginLimits);
    const attempts = await Promise.all(
      Array.from({ length: 20 }, () => http.post('/auth/login').send({ email: uniqueEmail(), password: 'wrong password' })),
    );
    const statuses = attempts.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    const limited = attempts.find((r) => r.status === 429)!;
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.body).toMatchObject({ statusCode: 429 });
  });

  it('the login limit is shared by every instance using the same Redis', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}:`;
    const a = await start({ ...loginLimits, REDIS_KEY_PREFIX: prefix });
    const b = await start({ ...loginLimits, REDIS_KEY_PREFIX: prefix });
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).http.post('/auth/login').send({ email: uniqueEmail(), password: 'wrong password' })),
    );
    expect(attempts.filter((r) => r.status !== 429)).toHaveLength(5);
  });

  it('refresh counts against the login limit; other routes against the default limit', async () => {
    const { http } = await start({ ...loginLimits, THROTTLE_LIMIT: '3', THROTTLE_TTL: '60' });
    for (let i = 0; i < 5; i++) await http.post('/auth/refresh').send({ refreshToken: 'nope' }).expect(401);
    await http.post('/auth/refresh').send({ refreshToken: 'nope' }).expect(429);
    for (let i = 0; i < 3; i++) await http.get('/ping').expect(200);
    const res = await http.get('/ping').expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('every 429 (login limit, password check limit, route limit) has the error shape and one Retry-After header', async () => {
    const { http } = await start({ THROTTLE_LOGIN_LIMIT: '2', THROTTLE_LOGIN_TTL: '60', THROTTLE_LIMIT: '2', THROTTLE_TTL: '60' });
    const user = await registerAndLogin(http); // the first password check of this address
    const change = () =>
      http
        .post('/auth/password')
        .auth(user.accessToken, { type: 'bearer' })
        .send({ currentPassword: 'not the password', newPassword: 'a new password' });
    await change().expect(401); // the second
    expectContract429(await change(), 'Too many requests, try again later');
    expectContract429(
      await http.post('/auth/login').send({ email: user.email, password: user.password }),
      'Too many requests, try again later',
    );
    await http.get('/ping').expect(200);
    await http.get('/ping').expect(200);
    expectContract429(await http.get('/ping'), 'Too many requests, try again later');
  });

  describe(`the default limit of 100 under a burst from one address (Redis ${REDIS_LATENCY_MS} ms away each way)`, () => {
    let proxy: TcpProxy;
    const redis = new URL(TEST_REDIS_URL);
    /**
     * An instance listening on a port, talking to Redis through the slow proxy.
     * @param commandTimeoutMs instead of the module's 100 ms: a burst that holds up an instance's
     *   event loop longer than its command timeout (as bursts of a few hundred do on a busy test
     *   machine) counts as a Redis fault, and the instance then counts alone (`redis-faults`).
     */
    const startBehindProxy = async (prefix: string, commandTimeoutMs?: number) => {
      const url = proxy.redisUrl(Number(redis.pathname.slice(1) || 0)) + (commandTimeoutMs ? `?commandTimeout=${commandTimeoutMs}` : '');
      const { app } = await start({ ...defaultLimit, REDIS_URL: url, REDIS_KEY_PREFIX: prefix });
      return listenOnFreePort(app);
    };

    beforeEach(async () => {
      proxy = await TcpProxy.start(Number(redis.port || 6379), redis.hostname);
    });
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((a) => a.close()));
      await proxy.close();
    });

    // At most 100, not exactly: on a busy machine an answer can outlast the 100 ms command
    // timeout, and a hit whose command timed out is counted in process as well as in Redis.
    it.each([150, 300, 600])('one instance: %i concurrent requests let at most 100 through', async (count) => {
      const url = await startBehindProxy(`t${randomBytes(4).toString('hex')}:`);
      proxy.latency(REDIS_LATENCY_MS);
      const result = await burst([url], count);
      console.log(`burst of ${count} on one instance: ${JSON.stringify(result)}`);
      expect(result.admitted).toBeLessThanOrEqual(100);
      expect(result.admitted).toBeGreaterThan(0);
      // And the window stays closed for that address.
      expect(await burst([url], 20)).toEqual({ admitted: 0, refused: 20 });
    });

    it('two instances on one Redis, bursts of 300 on both at once: at most the limit and a twentieth of it per instance', async () => {
      const prefix = `t${randomBytes(4).toString('hex')}:`;
      const urls = [await startBehindProxy(prefix, 5000), await startBehindProxy(prefix, 5000)];
      proxy.latency(REDIS_LATENCY_MS);
      const result = await burst(urls, 600);
      console.log(`bursts of 300 on two instances at once: ${JSON.stringify(result)}`);
      expect(result.admitted).toBeLessThanOrEqual(100 + 2 * 5);
    });

    it('two instances on one Redis: a burst on the one that has not heard the other used the limit up lets at most a twentieth of it through', async () => {
      const prefix = `t${randomBytes(4).toString('hex')}:`;
      const [a, b] = [await startBehindProxy(prefix, 5000), await startBehindProxy(prefix, 5000)];
      proxy.latency(REDIS_LATENCY_MS);
      // b counts a few and hears the shared count (its batch goes out within 100 ms).
      expect(await burst([b], 3)).toEqual({ admitted: 3, refused: 0 });
      await new Promise((resolve) => setTimeout(resolve, 100 + 4 * REDIS_LATENCY_MS));
      expect((await burst([a], 300)).admitted).toBeLessThanOrEqual(97);
      const late = await burst([b], 300);
      console.log(`burst of 300 on the instance that had not heard: ${JSON.stringify(late)}`);
      expect(late.admitted).toBeLessThanOrEqual(5);
    });
  });

  it('X-Forwarded-For changes nothing unless TRUST_PROXY is set', async () => {
    const untrusted = await start({ THROTTLE_LIMIT: '2', THROTTLE_TTL: '60' });
    for (let i = 0; i < 2; i++) await untrusted.http.get('/ping').set('X-Forwarded-For', `203.0.113.${i}`).expect(200);
    await untrusted.http.get('/ping').set('X-Forwarded-For', '203.0.113.99').expect(429);

    const trusted = await start({ THROTTLE_LIMIT: '2', THROTTLE_TTL: '60', TRUST_PROXY: 'true' });
    for (let i = 0; i < 2; i++) await trusted.http.get('/ping').set('X-Forwarded-For', '198.51.100.7').expect(200);
    await trusted.http.get('/ping').set('X-Forwarded-For', '198.51.100.7').expect(429);
    await trusted.http.get('/ping').set('X-Forwarded-For', '198.51.100.8').expect(200);
  });

  it('without Redis the limits are counted in process', async () => {
    const { http } = await start({ REDIS_URL: undefined as unknown as string, THROTTLE_LIMIT: '2', THROTTLE_TTL: '60' });
    await http.get('/ping').expect(200);
    await http.get('/ping').expect(200);
    await http.get('/ping').expect(429);
  });
});
