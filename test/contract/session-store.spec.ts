import { MemorySessionStore } from '../../src/session/adapters/memory/memory-session.store';
import { TypeOrmSessionStore } from '../../src/session/adapters/typeorm/typeorm-session.store';
import { OpenedDataSource, openPglite, openPostgres } from './session-schema';
import { sessionStoreContract, type SessionStoreHarness } from '../../src/session/testing';

/** A TypeORM store; sessions and samples are emptied with TRUNCATE (the schema stays). */
async function typeOrmHarness(opened: Promise<OpenedDataSource>): Promise<SessionStoreHarness> {
  const { dataSource, close } = await opened;
  return {
    store: new TypeOrmSessionStore(dataSource),
    reset: async () => {
      await dataSource.query('TRUNCATE sessions, session_concurrency_samples CASCADE');
    },
    close,
  };
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

sessionStoreContract('TypeORM on PostgreSQL', () => typeOrmHarness(openPostgres()));
sessionStoreContract('TypeORM on PGlite', () => typeOrmHarness(openPglite()));
