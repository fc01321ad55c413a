import { Redis } from 'ioredis';
import { RedisKeyMemorySampler } from '../../src/session/adapters/redis/redis-key-memory.sampler';
import { registerAndLogin, RunningApp, startApp } from '../support/app-harness';
import { PrivateRedis } from '../support/private-redis';
import { readFileSync } from 'node:fs';
import { ALERT_RULES_PATH } from '../support/alert-rules';
import { samples, sumOf } from '../support/prometheus-text';
import { dashboardQueries, ruleExpressions, seriesIn } from '../support/promql-series';

const BEARER = { type: 'bearer' } as const;

/** The series an operator reads, on the real app with Redis: answers per tier, the cache's state and its memory. */
describe('operator metrics', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running?.close());

  it('count validations by the tier that answered, and expose the cache state, the reconciliation lag and the Redis memory', async () => {
    const user = await registerAndLogin(running.http);
    for (let i = 0; i < 4; i++) await running.http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
    const text = (await running.http.get('/metrics').expect(200)).text;

    // The first validation misses Redis and reads PostgreSQL; the next ones are answered by a cache tier.
    expect(sumOf(text, 'session_cache_requests_total', { tier: 'redis', result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(text, 'session_cache_requests_total', { tier: 'store', result: 'hit' })).toBeGreaterThanOrEqual(1);
    const cacheHits = sumOf(text, 'session_cache_requests_total', { tier: 'memory', result: 'hit' }) + sumOf(text, 'session_cache_requests_total', { tier: 'redis', result: 'hit' });
    expect(cacheHits).toBeGreaterThanOrEqual(3);
    expect(new Set(samples(text, 'session_cache_requests_total').map((s) => s.labels.tier))).toEqual(new Set(['memory', 'redis', 'store']));

    expect(sumOf(text, 'session_cache_breaker_open')).toBe(0);
    expect(sumOf(text, 'session_cache_in_sync')).toBe(1);
    expect(sumOf(text, 'session_cache_pending_revocations')).toBe(0);
    // The watermark trails the clock by the 10 s margin, plus at most an interval (5 s) and a watch (1 s).
    const lag = sumOf(text, 'session_cache_reconciliation_lag_seconds');
    expect(lag).toBeGreaterThanOrEqual(9);
    expect(lag).toBeLessThan(20);
    // The session, its user index, the watermark, rate limits: a few keys of a few hundred bytes at least.
    expect(sumOf(text, 'session_redis_keys')).toBeGreaterThanOrEqual(3);
    expect(sumOf(text, 'session_redis_memory_bytes')).toBeGreaterThan(100);
  });

  it('serves every series the Grafana dashboard and the alert rules read', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
    const refreshed = await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await running.http.post('/auth/logout').auth(refreshed.body.accessToken, BEARER).expect(204);
    const text = (await running.http.get('/metrics').expect(200)).text;
    const exposed = new Set(text.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split(/[{ ]/)[0]));
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(15);
    const rules = ruleExpressions(readFileSync(ALERT_RULES_PATH, 'utf8'));
    expect(rules).toHaveLength(6);
    const read = [...queries.map((q) => ({ where: `dashboard panel "${q.panel}"`, expr: q.expr })), ...rules.map((expr) => ({ where: 'alert rule', expr }))];
    const missing = read.flatMap(({ where, expr }) => {
      const names = seriesIn(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      return names.filter((name) => !exposed.has(name)).map((name) => `${name} (${where})`);
    });
    expect(missing).toEqual([]);
  });
});

describe('seriesIn', () => {
  it('finds the series of an expression, not its functions, labels or keywords', () => {
    expect(
      seriesIn('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route=~"a|b"}[$__rate_interval]))) / on (x) max(sessions_active) > bool 3'),
    ).toEqual(['http_request_duration_seconds_bucket', 'sessions_active']);
  });
});

describe('RedisKeyMemorySampler', () => {
  let redis: PrivateRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await PrivateRedis.create();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.destroy();
  });

  const exactBytes = async (keys: string[]) => {
    let sum = 0;
    for (const key of keys) sum += (await client.memory('USAGE', key)) ?? 0;
    return sum;
  };

  it('counts exactly, and measures closely, when one scan sees the whole database', async () => {
    const ours = Array.from({ length: 40 }, (_, i) => `app:s:${i}`);
    for (const key of ours) await client.set(key, 'x'.repeat(200));
    await client.set('other:1', 'y');
    const sample = await new RedisKeyMemorySampler(client, 'app:').sample();
    expect(sample.keys).toBe(40);
    expect(sample.bytes).toBe(await exactBytes(ours));
  });

  it('estimates from a sample in a large shared database, in a few commands', async () => {
    await client.flushdb();
    const pipeline = client.pipeline();
    const ours: string[] = [];
    for (let i = 0; i < 20_000; i++) pipeline.set(`other:${i}`, 'y'.repeat(50));
    for (let i = 0; i < 4_000; i++) {
      ours.push(`app:s:${i}`);
      pipeline.set(`app:s:${i}`, 'x'.repeat(100 + (i % 200)));
    }
    await pipeline.exec();
    const commands: string[] = [];
    const monitor = await client.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
    const sample = await new RedisKeyMemorySampler(client, 'app:').sample();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Wait for the monitor connection to close: the MEMORY USAGE calls of `exactBytes` below must not reach it.
    await new Promise((resolve) => {
      monitor.once('end', resolve);
      monitor.disconnect();
    });
    expect(sample.keys).toBeGreaterThan(4_000 * 0.7);
    expect(sample.keys).toBeLessThan(4_000 * 1.3);
    const exact = await exactBytes(ours);
    expect(sample.bytes).toBeGreaterThan(exact * 0.7);
    expect(sample.bytes).toBeLessThan(exact * 1.3);
    // DBSIZE, at most 3 SCANs, at most 50 MEMORY USAGE: whatever the database's size.
    expect(commands.filter((c) => c === 'scan').length).toBeLessThanOrEqual(3);
    expect(commands.filter((c) => c === 'memory').length).toBeLessThanOrEqual(50);
    expect(commands.length).toBeLessThanOrEqual(54);
  });
});
