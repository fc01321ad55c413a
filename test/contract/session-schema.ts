import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { SESSION_MIGRATIONS } from '../../src/session';
import { TEST_DATABASE_URL } from '../support/test-env';

/** The app's schema setup: the session entities and migrations, run at start, never synchronize. */
const schema = {
  type: 'postgres' as const,
  migrations: SESSION_MIGRATIONS,
  migrationsRun: true,
  synchronize: false,
  installExtensions: false,
  logging: false,
};

/** A migrated DataSource and how to close it (and remove what it left on disk). */
export interface OpenedDataSource {
  dataSource: DataSource;
  close(): Promise<void>;
}

async function open(options: DataSourceOptions, cleanup = () => undefined as void): Promise<OpenedDataSource> {
  const dataSource = await new DataSource(options).initialize();
  return {
    dataSource,
    close: async () => {
      await dataSource.destroy();
      cleanup();
    },
  };
}

/** The test PostgreSQL, shared with the e2e suites (files run one at a time): only TRUNCATE, never drop. */
export const openPostgres = () => open({ ...schema, url: TEST_DATABASE_URL });

/** A PGlite of its own in a temporary directory (typeorm-pglite keeps one instance per DataSource). */
export function openPglite(): Promise<OpenedDataSource> {
  const dataDir = mkdtempSync(join(tmpdir(), 'session-contract-'));
  return open({ ...schema, driver: new PGliteDriver({ dataDir }).driver }, () =>
    rmSync(dataDir, { recursive: true, force: true }),
  );
}
