import { auditLogContract } from 'nest-session-module/testing';
import { ArrayAuditLog } from '../src/array-audit-log.js';

auditLogContract('ArrayAuditLog', async () => {
  let log = new ArrayAuditLog();
  return {
    get log() {
      return log;
    },
    reset: async () => {
      log = new ArrayAuditLog();
    },
    close: async () => undefined,
  };
});
