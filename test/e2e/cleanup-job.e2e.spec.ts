import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SessionCleanupService } from '../../src/session';
import { RESOLVED_SESSION_OPTIONS } from '../../src/session/session.constants';
import { CapturedLogs, startApp } from '../support/app-harness';

const PREFIX = `wiring-${randomUUID().slice(0, 8)}-`;
const OLD = new Date(Date.UTC(1991, 0, 1));

async function seedOld(ds: DataSource) {
  await ds.query(
    `INSERT INTO sessions (id, user_id, roles, access_hash, refresh_hash, access_expires_at, expires_at,
       absolute_expires_at, created_at, authenticated_at, last_activity_at, revoked_at, revoked_reason)
     VALUES (gen_random_uuid(), $1::text, '{user}', md5($1::text)||md5($1::text||'a'), md5($1::text||'r')||md5($1::text||'b'), $2, $2, $2, $2, $2, $2, $2, 'logout')`,
    [PREFIX + randomUUID(), OLD],
  );
}
const count = async (ds: DataSource) =>
  (await ds.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id LIKE $1`, [PREFIX + '%']))[0].n;

for (const mode of ['postgres', 'pglite'] as const) {
  it(`wires the cleanup job through AppModule (${mode})`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wiring-'));
    const logs = new CapturedLogs();
    const running = await startApp(
      {
        SESSION_CLEANUP_INTERVAL: '1',
        SESSION_RETENTION: '1000000000',
        ...(mode === 'pglite' ? { DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: dataDir } : {}),
      },
      logs,
    );
    try {
      const opts = running.app.get(RESOLVED_SESSION_OPTIONS);
      expect(opts.cleanupInterval).toBe(1);
      expect(opts.retention).toBe(1_000_000_000);
      const ds = running.app.get(DataSource);
      await seedOld(ds);
      expect(await count(ds)).toBe(1);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await count(ds)).toBe(0);
      expect(logs.lines.some((l) => /Session cleanup deleted 1 sessions/.test(l))).toBe(true);
      expect(running.app.get(SessionCleanupService)).toBeDefined();
    } finally {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
