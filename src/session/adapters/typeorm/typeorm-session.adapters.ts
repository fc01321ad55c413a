import type { DataSource } from 'typeorm';
import type { AuditLog } from '../../ports/audit-log.js';
import type { HousekeepingLock } from '../../ports/housekeeping-lock.js';
import type { SessionStore } from '../../ports/session-store.js';
import { TypeOrmAuditLog } from './typeorm-audit.log.js';
import { TypeOrmHousekeepingLock } from './typeorm-housekeeping.lock.js';
import { TypeOrmSessionStore } from './typeorm-session.store.js';

/** The PostgreSQL adapters, on one TypeORM `DataSource`. */
export interface TypeOrmSessionAdapters {
  /** Sessions in the `sessions` table: the source of truth. */
  store: SessionStore;
  /** The audit trail in `session_audit`. */
  auditLog: AuditLog;
  /** Housekeeping jobs one instance at a time, on PostgreSQL advisory locks. */
  lock: HousekeepingLock;
}

/** How the PostgreSQL adapters talk to the database. */
export interface TypeOrmSessionAdapterOptions {
  /**
   * Run the statements of the request paths (validation, rotation, login, revocation) as named
   * prepared statements on node-postgres' pool: parsed and planned once per connection, which
   * makes a rotation cost PostgreSQL about a third less. Turn it off behind PgBouncer older than
   * 1.21 in transaction mode (its connections do not keep prepared statements). Without effect on
   * PGlite or a driver passed in the DataSource's `driver`. @default true
   */
  preparedStatements?: boolean;
}

/**
 * The PostgreSQL (or embedded PGlite) adapters, to spread into `SessionModule.forRoot` options.
 * The `DataSource` is the app's, injected in `forRootAsync` so that it exists (and is
 * initialized) before the module uses it:
 *
 * ```ts
 * SessionModule.forRootAsync({
 *   inject: [DataSource, UsersService],
 *   useFactory: (dataSource: DataSource, users: UsersService) => ({ secret, credentials: users, ...typeOrmSessionAdapters(dataSource) }),
 * })
 * ```
 *
 * Its schema comes from `SESSION_MIGRATIONS`, which the DataSource must run (`migrations`,
 * `migrationsRun: true`; never `synchronize`). The adapters speak plain SQL through
 * `dataSource.query` (and node-postgres' pool for the prepared statements): no entity to register, and `typeorm` itself is never loaded by this package.
 * Only a database that cannot be reached answers 503; any other failure is an error, as it should be.
 */
export function typeOrmSessionAdapters(dataSource: DataSource, options: TypeOrmSessionAdapterOptions = {}): TypeOrmSessionAdapters {
  return {
    store: new TypeOrmSessionStore(dataSource, options),
    auditLog: new TypeOrmAuditLog(dataSource),
    lock: new TypeOrmHousekeepingLock(dataSource),
  };
}
