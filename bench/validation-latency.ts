/**
 * How long `SessionService.validate` takes for a session served from the Redis cache versus one
 * read from PostgreSQL, measured in one run against the real servers (TEST_DATABASE_URL /
 * TEST_REDIS_URL). Prints mean, p50 and p99 in microseconds and the ratio.
 *
 *   npm run bench:validation
 */
import 'reflect-metadata';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { MemorySessionCache } from '../src/session/adapters/memory/memory-session.cache';
import type { SharedSessionCache } from '../src/session/adapters/shared-session.cache';
import { TypeOrmSessionStore } from '../src/session/adapters/typeorm/typeorm-session.store';
import { SystemClock } from '../src/session/ports/clock';
import { CacheLookup, SessionCache } from '../src/session/ports/session-cache';
import { resolveSessionOptions } from '../src/session/resolve-options';
import { redisSessionAdapters, SESSION_MIGRATIONS } from '../src/session';
import { SessionService } from '../src/session/session.service';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const ROUNDS = Number(process.env.ROUNDS ?? 3000);

/** A cache that never holds anything: every validation goes to the store. */
class NoCache extends SessionCache {
  async get(): Promise<CacheLookup> {
    return null;
  }
  async set(): Promise<void> {}
  async markRevoked(): Promise<void> {}
  async forget(): Promise<void> {}
  async supersede(): Promise<void> {}
  async deleteUser(): Promise<void> {}
  async ping(): Promise<boolean> {
    return true;
  }
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  return { mean, p50: at(0.5), p99: at(0.99) };
}

async function time(fn: () => Promise<unknown>, rounds: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) * 1000);
  }
  return samples;
}

async function main() {
  const dataSource = new DataSource({
    type: 'postgres',
    url: DATABASE_URL,
    migrations: SESSION_MIGRATIONS,
    migrationsRun: true,
    installExtensions: false,
  });
  await dataSource.initialize();
  const redis = new Redis(REDIS_URL);
  const prefix = `bench${process.pid}:`;
  const options = resolveSessionOptions({
    secret: 'bench-secret-bench-secret-bench-secret-0123',
    credentials: { verify: async () => null, findById: async () => null },
    activityWriteInterval: 3600,
    idleTtl: 86_400,
  });
  const store = new TypeOrmSessionStore(dataSource);
  // The Redis cache without its in-process tier: every validation is one Redis read.
  const redisCache = redisSessionAdapters(redis, { keyPrefix: prefix, localCacheTtl: 0 }).cache as SharedSessionCache;
  await redisCache.start({ store });
  while (!redisCache.healthy) await new Promise((resolve) => setTimeout(resolve, 20));
  const cached = new SessionService(store, redisCache, new SystemClock(), options);
  const uncached = new SessionService(store, new NoCache(), new SystemClock(), options);
  // The in-process tier (what each instance keeps in front of Redis): answered synchronously.
  const local = new SessionService(store, new MemorySessionCache(1000), new SystemClock(), options);

  const { tokens, session } = await cached.create({ userId: `bench-${process.pid}`, roles: [] });
  const token = tokens.accessToken;
  const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
  await cached.validate(token);
  await local.validate(token);

  // Warm up both paths, then interleave measured rounds so drift hits both alike.
  await time(() => cached.validate(token), 500);
  await time(() => uncached.validate(token), 500);
  const redisSamples: number[] = [];
  const pgSamples: number[] = [];
  const forgedSamples: number[] = [];
  const localSamples: number[] = [];
  await time(() => local.validate(token), 500);
  for (let round = 0; round < 5; round++) {
    localSamples.push(...(await time(() => local.validate(token), ROUNDS / 5)));
    redisSamples.push(...(await time(() => cached.validate(token), ROUNDS / 5)));
    pgSamples.push(...(await time(() => uncached.validate(token), ROUNDS / 5)));
    forgedSamples.push(...(await time(() => cached.validate(forged).catch(() => undefined), ROUNDS / 5)));
  }
  const r = stats(redisSamples);
  const p = stats(pgSamples);
  const f = stats(forgedSamples);
  const l = stats(localSamples);
  const fmt = (s: ReturnType<typeof stats>) =>
    `mean ${s.mean.toFixed(0)} µs, p50 ${s.p50.toFixed(0)} µs, p99 ${s.p99.toFixed(0)} µs`;
  process.stdout.write(
    [
      `validate, in-process hit:    ${fmt(l)}`,
      `validate, Redis cache hit:   ${fmt(r)}`,
      `validate, PostgreSQL read:   ${fmt(p)}`,
      `reject forged token (no I/O): ${fmt(f)}`,
      `PostgreSQL / Redis (p50): ${(p.p50 / r.p50).toFixed(2)}x; Redis / in-process (p50): ${(r.p50 / l.p50).toFixed(1)}x`,
      '',
    ].join('\n'),
  );

  await cached.revoke(session.id);
  await dataSource.query('DELETE FROM sessions WHERE user_id = $1', [session.userId]);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redisCache.close();
  redis.disconnect();
  await dataSource.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
