import { MemoryAuditLog } from '../../src/session/adapters/memory/memory-audit.log';
import { TypeOrmAuditLog } from '../../src/session/adapters/typeorm/typeorm-audit.log';
import { auditLogContract, type AuditLogHarness } from '../../src/session/testing';
import { OpenedDataSource, openPglite, openPostgres } from './session-schema';

async function typeOrmHarness(opened: Promise<OpenedDataSource>): Promise<AuditLogHarness> {
  const { dataSource, close } = await opened;
  return {
    log: new TypeOrmAuditLog(dataSource),
    reset: async () => {
      await dataSource.query('TRUNCATE session_audit');
    },
    close,
  };
}

auditLogContract('memory', async () => {
  let log = new MemoryAuditLog();
  return {
    get log() {
      return log;
    },
    reset: async () => {
      log = new MemoryAuditLog();
    },
    close: async () => undefined,
  };
});

auditLogContract('TypeORM on PostgreSQL', () => typeOrmHarness(openPostgres()));
auditLogContract('TypeORM on PGlite', () => typeOrmHarness(openPglite()));
