import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { SESSION_ENTITIES, SESSION_MIGRATIONS } from '../../src/session';
import { MemorySessionStore } from '../../src/session/adapters/memory/memory-session.store';
import { TypeOrmSessionStore } from '../../src/session/adapters/typeorm/typeorm-session.store';
import { TEST_DATABASE_URL } from '../support/test-env';
import { sessionStoreContract, type SessionStoreHarness } from './session-store.contract';

/** The app's schema setup: the session entities and migrations, run at start, never synchronize. */
const schema = {
  type: 'postgres' as const,
  entities: SESSION_ENTITIES,
  migrations: SESSION_MIGRATIONS,
  migrationsRun: true,
  synchronize: false,
  installExtensions: false,
  logging: false,
};

/** A TypeORM store on `options`; sessions are emptied with TRUNCATE (the schema stays). */
async function typeOrmHarness(options: DataSourceOptions, cleanup = () => undefined as void) {
  const dataSource = await new DataSource(options).initialize();
  const harness: SessionStoreHarness = {
    store: new TypeOrmSessionStore(dataSource),
    reset: async () => {
      await dataSource.query('TRUNCATE sessions CASCADE');
    },
    close: async () => {
      await dataSource.destroy();
      cleanup();
    },
  };
  return harness;
}

sessionStoreContract('memory', async () => {
  let store = new MemorySessionStore();
  return {
    get store() {
      return store;
    },
    reset: async () => {
      store = new MemorySessionStore();
    },
    close: async () => undefined,
  };
});

// Shares the database `test` with the e2e suites (jest runs in band): only TRUNCATE, never drop.
sessionStoreContract('TypeORM on PostgreSQL', () =>
  typeOrmHarness({ ...schema, url: TEST_DATABASE_URL }),
);

// typeorm-pglite keeps one PGlite instance per process; destroying the DataSource closes it.
sessionStoreContract('TypeORM on PGlite', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'session-store-contract-'));
  return typeOrmHarness({ ...schema, driver: new PGliteDriver({ dataDir }).driver }, () =>
    rmSync(dataDir, { recursive: true, force: true }),
  );
});
