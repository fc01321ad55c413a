import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { SESSION_MIGRATIONS } from '../session';
import { UserEntity } from '../users/user.entity';
import { USER_MIGRATIONS } from '../users/migrations';
import type { AppEnv } from '../config/app-env';
import { TypeOrmLogger } from './typeorm-logger';

/** A statement slower than this (milliseconds) is logged as a warning, without its parameters. */
const SLOW_QUERY_MS = 1000;

/** Whether the app talks to a PostgreSQL server or runs the embedded one. */
export function describeDatabase(env: AppEnv): string {
  return env.DATABASE_URL
    ? `PostgreSQL at ${new URL(env.DATABASE_URL).host}`
    : `embedded PostgreSQL (PGlite) in ${resolve(env.DATA_DIR, 'pg')}`;
}

/**
 * One schema for both backends: the same entities and migrations, run at start; never
 * `synchronize`. Every DataSource the app makes (the app's, the CLI's, the embedded one) logs
 * through {@link TypeOrmLogger}. Connection and query timeouts are bounded so a database outage answers 503
 * quickly instead of hanging requests.
 */
export function databaseOptions(env: AppEnv): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: [UserEntity],
    migrations: [...USER_MIGRATIONS, ...SESSION_MIGRATIONS],
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+; PGlite ships no extensions to install.
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    // JSON through the app's logger, never a statement's parameters (TypeORM's default logger
    // prints failed statements with them to standard output).
    logger: new TypeOrmLogger(),
    maxQueryExecutionTime: SLOW_QUERY_MS,
  };
  if (env.DATABASE_URL) {
    return {
      ...common,
      url: env.DATABASE_URL,
      extra: {
        max: 10,
        connectionTimeoutMillis: 3000,
        query_timeout: 5000,
        statement_timeout: 5000,
        idleTimeoutMillis: 30_000,
      },
    };
  }
  mkdirSync(env.DATA_DIR, { recursive: true });
  return {
    ...common,
    driver: new PGliteDriver({ dataDir: join(env.DATA_DIR, 'pg') }).driver,
  };
}
