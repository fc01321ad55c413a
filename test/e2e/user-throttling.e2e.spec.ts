import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { registerAndLogin, resetDatabase, RunningApp, startApp } from '../support/app-harness';
import { sleep } from '../support/timing';

/**
 * Issue 14, item 3: `THROTTLE_USER_LIMIT` / `THROTTLE_USER_TTL` limit each authenticated user on
 * the routes that need a session, whatever the client address (off by default).
 */
const BEARER = { type: 'bearer' } as const;
const LIMIT = 5;

/** Names of the answer's headers as sent (repeats kept), lower-cased. */
const headerNames = (res: Response) => {
  const raw = (res as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
  return raw.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
};

let address = 0;
/** A client address no other request of this suite used. */
const nextAddress = () => `198.51.${Math.floor(++address / 250)}.${(address % 250) + 1}`;

describe('per-user rate limit (THROTTLE_USER_LIMIT)', () => {
  const apps: RunningApp[] = [];
  const start = async (env: Record<string, string>) => {
    const app = await startApp({ TRUST_PROXY: 'true', ...env });
    apps.push(app);
    return app;
  };

  beforeAll(() => resetDatabase());
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('one user from many addresses gets 429 past the limit, on every route that needs a session and on every instance; other users and public routes are not counted', async () => {
    const prefix = `ut${randomBytes(4).toString('hex')}:`;
    const env = { REDIS_KEY_PREFIX: prefix, THROTTLE_USER_LIMIT: String(LIMIT), THROTTLE_USER_TTL: '60' };
    const a = await start(env);
    const b = await start(env);
    const user = await registerAndLogin(a.http);
    const other = await registerAndLogin(a.http);
    const get = (app: RunningApp, path: string, token: string) => app.http.get(path).auth(token, BEARER).set('X-Forwarded-For', nextAddress());

    // A public route is not counted, with or without the session.
    for (let i = 0; i < LIMIT + 2; i++) await get(a, '/ping', user.accessToken).expect(200);
    for (let i = 0; i < LIMIT; i++) await get(a, i % 2 ? '/auth/me' : '/ping/secure', user.accessToken).expect(200);

    const refused = await get(a, '/ping/secure', user.accessToken);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ statusCode: 429, message: 'Too many requests, try again later', error: 'Too Many Requests' });
    expect(headerNames(refused).filter((name) => name.startsWith('retry-after'))).toEqual(['retry-after']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    await get(a, '/auth/sessions', user.accessToken).expect(429); // one count over every route
    await sleep(300); // the batches of A's counts reach Redis
    await get(b, '/ping/secure', user.accessToken).expect(429);

    for (let i = 0; i < LIMIT; i++) await get(i % 2 ? a : b, '/ping/secure', other.accessToken).expect(200);
  });

  it('is off by default: one user from many addresses is never refused', async () => {
    const app = await start({});
    const user = await registerAndLogin(app.http);
    for (let i = 0; i < 40; i++) {
      await app.http.get('/ping/secure').auth(user.accessToken, BEARER).set('X-Forwarded-For', nextAddress()).expect(200);
    }
  });
});
