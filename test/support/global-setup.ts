import { Client } from 'pg';
import { Redis } from 'ioredis';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';

/** Fails the run at once, saying how to start what is missing, when a test server is down. */
export default async function globalSetup(): Promise<void> {
  const problems: string[] = [];
  const pg = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (error) {
    problems.push(
      `PostgreSQL at ${TEST_DATABASE_URL} is unreachable (${(error as Error).message}).\n` +
        '  Start it (e.g. `docker compose up -d postgres`, or `pg_ctlcluster <version> main start`) ' +
        'or point TEST_DATABASE_URL at a server.',
    );
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    problems.push(
      `Redis at ${TEST_REDIS_URL} is unreachable (${(error as Error).message}).\n` +
        '  Start it (e.g. `docker compose up -d redis`, or `redis-server --daemonize yes`) ' +
        'or point TEST_REDIS_URL at a server.',
    );
  } finally {
    redis.disconnect();
  }
  if (problems.length > 0) {
    throw new Error(`The tests need real PostgreSQL and Redis:\n${problems.join('\n')}`);
  }
}
