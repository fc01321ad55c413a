import { Redis } from 'ioredis';
import {
  CapturedLogs,
  login,
  registerAndLogin,
  resetDatabase,
  RunningApp,
  sql,
  startApp,
} from '../support/app-harness';
import { TEST_REDIS_URL } from '../support/test-env';
import { sessionCacheKey } from '../../src/session/adapters/redis/redis-cache.tier';

/** PostgreSQL is the truth, Redis a cache: what each holds, and what survives losing the cache or the process. */
describe('storage: PostgreSQL truth, Redis cache', () => {
  let running: RunningApp;
  let redis: Redis;
  const logs = new CapturedLogs();

  const redisKeys = () => redis.keys(`${running.env.REDIS_KEY_PREFIX}*`);
  const flushOurKeys = async () => {
    const keys = await redisKeys();
    if (keys.length) await redis.del(...keys);
  };

  beforeAll(async () => {
    await resetDatabase();
    redis = new Redis(TEST_REDIS_URL);
    running = await startApp({}, logs);
  });
  afterAll(async () => {
    await flushOurKeys();
    await running.close();
    redis.disconnect();
  });

  it('stores only token hashes: no raw token in PostgreSQL, Redis or the logs', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
    const refreshed = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await running.http.get('/ping/secure').auth(refreshed.body.accessToken, { type: 'bearer' }).expect(200);
    await running.http.post('/auth/refresh').send({ refreshToken: refreshed.body.refreshToken }).expect(200);
    await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401); // reuse, logged

    const rawTokens = [user.accessToken, user.refreshToken, refreshed.body.accessToken, refreshed.body.refreshToken];
    const randomParts = rawTokens.map((t: string) => t.slice(3, 40));
    const rows = await sql('SELECT * FROM sessions');
    const dump = JSON.stringify(rows);
    const keys = await redisKeys();
    expect(keys.length).toBeGreaterThan(0);
    let redisDump = keys.join('\n');
    for (const key of keys) {
      const type = await redis.type(key);
      redisDump += '\n' + (type === 'string' ? await redis.get(key) : JSON.stringify(await redis.smembers(key)));
    }
    expect(logs.lines.some((line) => line.includes('"path":"/auth/refresh"'))).toBe(true);
    for (const part of randomParts) {
      expect(dump).not.toContain(part);
      expect(redisDump).not.toContain(part);
      expect(logs.lines.join('\n')).not.toContain(part);
    }
    expect(rows.every((r) => typeof r.access_hash === 'string' && (r.access_hash as string).length === 43)).toBe(true);
  });

  it('after the cache is wiped, live sessions still work and revoked ones stay revoked', async () => {
    const live = await registerAndLogin(running.http);
    const revoked = await registerAndLogin(running.http);
    await running.http.get('/ping/secure').auth(live.accessToken, { type: 'bearer' }).expect(200);
    await running.http.get('/ping/secure').auth(revoked.accessToken, { type: 'bearer' }).expect(200);
    await running.http.post('/auth/logout').auth(revoked.accessToken, { type: 'bearer' }).expect(204);

    await flushOurKeys();
    expect(await redisKeys()).toEqual([]);

    await running.http.get('/ping/secure').auth(live.accessToken, { type: 'bearer' }).expect(200);
    await running.http.get('/ping/secure').auth(revoked.accessToken, { type: 'bearer' }).expect(401);
    await running.http.post('/auth/refresh').send({ refreshToken: live.refreshToken }).expect(200);
    await running.http.post('/auth/refresh').send({ refreshToken: revoked.refreshToken }).expect(401);
  });

  it('a validated session is cached in Redis under its token hash with a bounded TTL', async () => {
    const user = await registerAndLogin(running.http);
    const [row] = await sql<{ access_hash: string }>('SELECT access_hash FROM sessions WHERE id = $1', [user.sessionId]);
    const key = sessionCacheKey(running.env.REDIS_KEY_PREFIX, row.access_hash);
    // After a wipe (the test before), the instance fills nothing until its watch (every second)
    // has seen the watermark gone and caught up under a new one: PostgreSQL answers meanwhile.
    const deadline = Date.now() + 5000;
    do {
      await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
      if ((await redis.ttl(key)) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < deadline);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    expect(await redis.sismember(`${running.env.REDIS_KEY_PREFIX}u:${user.userId}`, row.access_hash.slice(0, 22))).toBe(1);
    await running.http.post('/auth/logout').auth(user.accessToken, { type: 'bearer' }).expect(204);
    // Revocation leaves a mark that a late cache fill cannot overwrite, and no session data.
    expect(await redis.get(key)).toBe('!');
    expect(await redis.ttl(key)).toBeGreaterThan(0);
  });

  it('sessions survive an app restart (same PostgreSQL and Redis)', async () => {
    const user = await registerAndLogin(running.http);
    const other = await login(running.http, user.email, user.password);
    await running.http.post('/auth/logout').auth(other.accessToken, { type: 'bearer' }).expect(204);
    await running.close();
    running = await startApp({ REDIS_KEY_PREFIX: running.env.REDIS_KEY_PREFIX }, logs);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
    await running.http.get('/ping/secure').auth(other.accessToken, { type: 'bearer' }).expect(401);
    await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
  });
});
