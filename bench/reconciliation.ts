/**
 * The cost of the cache's reconciliation with PostgreSQL (issue 10): what the protocol itself
 * adds — the rounds, the watermark watch and the heartbeats — on a database of 1,000,000
 * sessions while 100 sessions end every second.
 *
 *   npm run bench:reconcile        # prints a markdown report
 *
 * In a database of its own (`reconcile_<random>` on the TEST_DATABASE_URL server, dropped at the
 * end) and a private redis-server on a free port: runs the migrations, seeds RECONCILE_SESSIONS
 * sessions over 100,000 users (a third ended over the last day, as a live table holds them), then
 * starts RECONCILE_INSTANCES `SharedSessionCache`s (the real Redis tier, channel and
 * `TypeOrmSessionStore`) and ends RECONCILE_RATE live sessions per second for RECONCILE_SECONDS
 * straight in PostgreSQL — no instance marks them, so every Redis command counted (INFO
 * commandstats, before and after) and every store query is the protocol's own: each end must be
 * marked by a reconciliation round. Reports queries per second and their time, Redis commands per
 * second by command, and the lag from an end to its mark in Redis (sampled).
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { redisSessionAdapters, SESSION_MIGRATIONS } from '../src/session';
import { sessionCacheKey } from '../src/session/adapters/redis/redis-cache.tier';
import type { SharedSessionCache } from '../src/session/adapters/shared-session.cache';
import { TypeOrmSessionStore } from '../src/session/adapters/typeorm/typeorm-session.store';
import { freePort } from './local-http';

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SESSIONS = Number(process.env.RECONCILE_SESSIONS ?? 1_000_000);
const RATE = Number(process.env.RECONCILE_RATE ?? 100);
const SECONDS = Number(process.env.RECONCILE_SECONDS ?? 60);
const INSTANCES = Number(process.env.RECONCILE_INSTANCES ?? 2);
const INTERVAL_S = Number(process.env.RECONCILE_INTERVAL ?? 5);

const progress = (line: string) => process.stderr.write(`[reconcile] ${line}\n`);
const print = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** A third of the sessions ended during the last day, the rest live; ids and hashes unique per run. */
const SEED = `
INSERT INTO sessions (id, user_id, roles, access_hash, refresh_hash, access_expires_at, expires_at,
  absolute_expires_at, created_at, authenticated_at, last_activity_at, revoked_at, revoked_reason, ended_at, version)
SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(g % 100000), 12, '0'))::uuid, '{user}',
  translate(encode(sha256($1::bytea || int8send(g)), 'base64'), '+/=', '-_'),
  translate(encode(sha256($1::bytea || '\\x01'::bytea || int8send(g)), 'base64'), '+/=', '-_'),
  now() + interval '15 minutes', now() + interval '7 days', now() + interval '30 days',
  now() - interval '1 day', now() - interval '1 day', now() - (g % 600) * interval '1 second',
  CASE WHEN g % 3 = 0 THEN now() - (g % 86400) * interval '1 second' END,
  CASE WHEN g % 3 = 0 THEN 'logout' END,
  CASE WHEN g % 3 = 0 THEN now() - (g % 86400) * interval '1 second' END, 1
FROM generate_series($2::int, $3::int) g`;

/** INFO commandstats as command → calls. */
async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const stats = new Map<string, number>();
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) stats.set(match[1], Number(match[2]));
  }
  return stats;
}

async function main(): Promise<void> {
  const dbName = `reconcile_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(SERVER_URL);
  dbUrl.pathname = `/${dbName}`;
  const port = await freePort();
  const redisServer: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const caches: SharedSessionCache[] = [];
  let dataSource: DataSource | undefined;
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  try {
    dataSource = new DataSource({ type: 'postgres', url: dbUrl.toString(), migrations: SESSION_MIGRATIONS, migrationsRun: true, extra: { max: 4 } });
    await dataSource.initialize();
    const started = performance.now();
    const salt = randomBytes(8);
    for (let from = 1; from <= SESSIONS; from += 100_000) {
      await dataSource.query(SEED, [salt, from, Math.min(SESSIONS, from + 99_999)]);
    }
    await dataSource.query('VACUUM (ANALYZE) sessions');
    progress(`seeded ${SESSIONS} sessions in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const live: Array<{ id: string; access_hash: string }> = await dataSource.query(
      `SELECT id, access_hash FROM sessions WHERE ended_at IS NULL ORDER BY random() LIMIT $1`,
      [RATE * SECONDS + RATE],
    );

    await redis.connect();
    const store = new TypeOrmSessionStore(dataSource);
    let queries = 0;
    const queryMs: number[] = [];
    const revokedAccessSince = store.revokedAccessSince.bind(store);
    /** When each round (or catch-up) began: its first page. */
    const roundStarts: number[] = [];
    store.revokedAccessSince = async (...args) => {
      const t = performance.now();
      if (args[2] === undefined) roundStarts.push(t);
      try {
        return await revokedAccessSince(...args);
      } finally {
        queries += 1;
        queryMs.push(performance.now() - t);
      }
    };
    const prefix = 'bench:';
    for (let i = 0; i < INSTANCES; i++) {
      const cache = redisSessionAdapters(`redis://127.0.0.1:${port}`, { keyPrefix: prefix, reconcileInterval: INTERVAL_S }).cache as SharedSessionCache;
      await cache.start({ store });
      caches.push(cache);
    }
    progress(`${INSTANCES} instances in sync; ending ${RATE} sessions/s for ${SECONDS} s`);

    queries = 0;
    queryMs.length = 0;
    roundStarts.length = 0;
    const before = await commandStats(redis);
    const window = () => ({ now: new Date(), activeSince: new Date(Date.now() - 86_400_000) });
    const lags: number[] = [];
    const sampled: Array<{ hash: string; endedAt: number }> = [];
    let next = 0;
    const t0 = performance.now();
    for (let second = 0; second < SECONDS; second++) {
      const batch = live.slice(next, next + RATE);
      next += RATE;
      // Spread over the second, as requests would.
      for (let i = 0; i < batch.length; i++) {
        await store.revoke({ id: batch[i].id }, 'logout', window());
        if (i === 0) sampled.push({ hash: batch[i].access_hash, endedAt: performance.now() });
        const due = t0 + second * 1000 + ((i + 1) * 1000) / batch.length;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      // Sample: when did the first end of each second reach Redis?
      for (const sample of sampled.splice(0)) {
        void (async () => {
          const key = sessionCacheKey(prefix, sample.hash);
          for (;;) {
            // STRLEN, which the protocol never sends, so the sampler's reads are told apart: 1 is the mark '!'.
            if ((await redis.strlen(key)) === 1) return lags.push(performance.now() - sample.endedAt);
            await sleep(20);
          }
        })();
      }
    }
    const elapsed = (performance.now() - t0) / 1000;
    await sleep(INTERVAL_S * 1000 + 500);
    const after = await commandStats(redis);
    const perSecond = [...after]
      .map(([command, calls]) => ({ command, rate: (calls - (before.get(command) ?? 0)) / elapsed }))
      .filter((c) => c.rate > 0 && !['info', 'strlen'].includes(c.command))
      .sort((a, b) => b.rate - a.rate);
    queryMs.sort((a, b) => a - b);
    lags.sort((a, b) => a - b);
    const total = perSecond.reduce((sum, c) => sum + c.rate, 0);
    print(`## Reconciliation cost (${SESSIONS.toLocaleString('en')} sessions, ${RATE} ends/s, ${INSTANCES} instances, interval ${INTERVAL_S} s, ${elapsed.toFixed(0)} s)\n`);
    print(`| what | per second |\n|---|---|`);
    print(`| store queries (revokedAccessSince) | ${(queries / elapsed).toFixed(2)} (p50 ${queryMs[Math.floor(queryMs.length / 2)]?.toFixed(1)} ms, max ${queryMs.at(-1)?.toFixed(1)} ms) |`);
    print(`| Redis commands, all | ${total.toFixed(0)} |`);
    for (const c of perSecond) print(`| Redis ${c.command} | ${c.rate.toFixed(1)} |`);
    print('\n(set, srem: marks; publish: invalidations and the heartbeats, 5/s per instance; get: the watermark watch, 1/s per instance, and the rounds; set also takes the lease; evalsha: the watermark moving forward.)');
    const gaps = roundStarts.slice(1).map((t, i) => t - roundStarts[i]);
    print(`\nRounds: ${roundStarts.length}, ${(gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length) / 1000).toFixed(2)} s apart on average, at most ${(Math.max(...gaps) / 1000).toFixed(2)} s`);
    print(`\nEnd → mark in Redis, with no instance marking it: p50 ${(lags[Math.floor(lags.length / 2)] / 1000).toFixed(2)} s, max ${(lags.at(-1)! / 1000).toFixed(2)} s (${lags.length} samples)`);
  } finally {
    await Promise.allSettled(caches.map((cache) => cache.close()));
    redis.disconnect();
    await dataSource?.destroy().catch(() => undefined);
    redisServer.kill('SIGKILL');
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
