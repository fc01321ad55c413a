import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { alertRulesForTests, ALERT_RULES_PATH } from '../support/alert-rules';
import { registerAndLogin, RunningApp, startApp, uniqueEmail } from '../support/app-harness';
import { listenOnFreePort } from '../support/listen';
import { PrivatePrometheus, PROMTOOL, prometheusInstalled } from '../support/private-prometheus';
import { PrivateRedis } from '../support/private-redis';
import { TcpProxy } from '../support/tcp-proxy';
import { dashboardQueries } from '../support/promql-series';
import { TEST_DATABASE_URL } from '../support/test-env';

const BEARER = { type: 'bearer' } as const;
/** CI installs Prometheus (.ci/run); elsewhere the suite is skipped, saying so, when it is missing. */
const installed = prometheusInstalled();
if (!installed && process.env.CI) throw new Error('Prometheus is missing: apt-get install -y prometheus');
if (!installed) console.warn('Skipping the Prometheus alert tests: /usr/bin/prometheus is missing (apt-get install -y prometheus)');

describe('the alert rules in docs/prometheus', () => {
  it('pass promtool check rules, as shipped and as the test copy', () => {
    if (!installed) return;
    execFileSync(PROMTOOL, ['check', 'rules', ALERT_RULES_PATH], { stdio: 'pipe' });
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    try {
      writeFileSync(join(dir, 'rules.yml'), alertRulesForTests());
      execFileSync(PROMTOOL, ['check', 'rules', join(dir, 'rules.yml')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The real app (its PostgreSQL behind a TCP proxy, a Redis of the test's own), scraped by a
 * private Prometheus that evaluates the docs' rules (windows and durations shortened): each
 * alert stays quiet in normal operation and fires when its condition is provoked.
 */
describe.skipIf(!installed)('Prometheus alerts on a running app', () => {
  let redis: PrivateRedis;
  let pgProxy: TcpProxy;
  let running: RunningApp;
  let prometheus: PrivatePrometheus;
  let baseUrl: string;

  beforeAll(async () => {
    redis = await PrivateRedis.create();
    const database = new URL(TEST_DATABASE_URL);
    pgProxy = await TcpProxy.start(Number(database.port || 5432), database.hostname);
    database.host = `127.0.0.1:${pgProxy.port}`;
    running = await startApp({ DATABASE_URL: database.toString(), REDIS_URL: redis.url, SESSION_CACHE_RECONCILE_INTERVAL: '1', LOG_LEVEL: 'fatal' });
    baseUrl = await listenOnFreePort(running.app);
    prometheus = await PrivatePrometheus.start(new URL(baseUrl).host.replace('localhost', '127.0.0.1'), alertRulesForTests());
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
    await running?.close().catch(() => undefined);
    await pgProxy?.close();
    await redis?.destroy();
  });

  const firingNow = async () => (await prometheus.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);

  it('stays quiet in normal operation, then fires each alert when its condition is provoked', async () => {
    const user = await registerAndLogin(running.http);
    // Logged in and never validated: not in the cache, so validating it reads PostgreSQL.
    const uncached = await registerAndLogin(running.http);
    await prometheus.waitUntil(async () => (await prometheus.query('up{job="session-app"}')) === 1, 15_000, 'the app to be scraped');

    // Normal operation for a few evaluations: valid traffic, nothing pending or firing.
    for (let i = 0; i < 12; i++) {
      await running.http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await prometheus.query('session_cache_in_sync')).toBe(1);
    expect(await prometheus.alerts()).toEqual([]);

    // Password guessing: failed logins, more than one a second.
    const guess = () =>
      Promise.all(Array.from({ length: 4 }, () => running.http.post('/auth/login').send({ email: uniqueEmail('nobody'), password: 'wrong password!' }).expect(401)));
    const spike = await prometheus.waitForFiring('SessionLoginFailureSpike', 30_000, guess);
    expect(Number(spike.value)).toBeGreaterThan(1);

    // Redis refuses writes (out of memory) but answers reads: a logout's revocation mark waits.
    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      const victim = await registerAndLogin(running.http);
      await running.http.get('/ping/secure').auth(victim.accessToken, BEARER).expect(200);
      await running.http.post('/auth/logout').auth(victim.accessToken, BEARER).expect(204);
      await running.http.get('/ping/secure').auth(victim.accessToken, BEARER).expect(401);
      await prometheus.waitForFiring('SessionRevocationsUndelivered', 20_000);
      await admin.config('SET', 'maxmemory', '0');
    } finally {
      admin.disconnect();
    }

    // Redis goes away: the breaker opens.
    await redis.stop();
    await prometheus.waitForFiring('SessionCacheBreakerOpen', 20_000, () => running.http.get('/ping/secure').auth(user.accessToken, BEARER));
    await redis.start();
    await prometheus.waitUntil(async () => (await prometheus.query('session_cache_in_sync')) === 1, 20_000, 'the cache to be in sync again');

    // PostgreSQL goes away: answers that need it are 503, validations of uncached sessions fail,
    // and the reconciliation watermark stops moving.
    await pgProxy.close();
    const failing = () =>
      Promise.all([
        running.http.post('/auth/login').send({ email: user.email, password: user.password }),
        running.http.get('/ping/secure').auth(uncached.accessToken, BEARER),
      ]);
    for (const alert of ['SessionHttpErrors', 'SessionValidationErrors', 'SessionRevocationLag']) {
      await prometheus.waitForFiring(alert, 30_000, failing);
    }
    expect(await firingNow()).toEqual(expect.arrayContaining(['SessionHttpErrors', 'SessionValidationErrors', 'SessionRevocationLag']));
    // The scrape itself kept working with PostgreSQL away.
    expect((await fetch(`${baseUrl}/metrics`)).status).toBe(200);
    expect(await prometheus.query('up{job="session-app"}')).toBe(1);

    // Every query of the Grafana dashboard is PromQL this Prometheus takes, and answers.
    for (const { panel, expr } of dashboardQueries()) {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr.replaceAll('$__rate_interval', '15s'))}`);
      expect(res.status, `${panel}: ${expr}`).toBe(200);
    }
  }, 150_000);
});
