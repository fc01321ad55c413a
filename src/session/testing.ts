/**
 * Contract suites for the module's ports: prove a custom adapter behaves as the module needs by
 * running the suite its built-in adapters pass. They run under Vitest (with `globals: true`) or
 * Jest, which provide `describe`, `it`, `expect`, `beforeAll`, `beforeEach` and `afterAll`.
 *
 * ```ts
 * import { sessionStoreContract } from 'nest-session-module/testing';
 * sessionStoreContract('MongoSessionStore', async () => ({ store: new MongoSessionStore(db), reset: () => db.dropDatabase(), close: () => client.close() }));
 * ```
 */
export { sessionStoreContract } from './contracts/session-store.contract.js';
export type { SessionStoreHarness } from './contracts/session-store.contract.js';
export { sessionCacheContract } from './contracts/session-cache.contract.js';
export type { SessionCacheHarness } from './contracts/session-cache.contract.js';
export { auditLogContract } from './contracts/audit-log.contract.js';
export type { AuditLogHarness } from './contracts/audit-log.contract.js';
export { throttlerStorageContract } from './contracts/throttler-storage.contract.js';
export { loginFailureCounterContract } from './contracts/login-failure-counter.contract.js';
