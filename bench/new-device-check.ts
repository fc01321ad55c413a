/**
 * What the new-device check adds to a login: `NewDeviceDetector.check` (one `recentClients`
 * query, the comparison, the event) against the real PostgreSQL (TEST_DATABASE_URL), on a table
 * of SESSIONS sessions over USERS users plus one user with HEAVY sessions in the lookback (the
 * row cap, 50, is what bounds that one). Prints mean, p50 and p99 in microseconds per check, the
 * same for the session INSERT a login does anyway, and the plan of the lookback query.
 * It TRUNCATEs `sessions` before and after: never point it at a database you care about.
 *
 *   TEST_DATABASE_URL=postgres://…/scratch npx ts-node bench/new-device-check.ts
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { TypeOrmSessionStore } from '../src/session/adapters/typeorm/typeorm-session.store';
import { NewDeviceDetector } from '../src/session/new-device/new-device-detector';
import type { NewSessionRecord } from '../src/session/ports/session-record';
import { toSessionInfo } from '../src/session/ports/session-record';
import { resolveSessionOptions } from '../src/session/resolve-options';
import { SESSION_MIGRATIONS } from '../src/session';
import { SessionEventPublisher } from '../src/session/session-event.publisher';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SESSIONS = Number(process.env.SESSIONS ?? 200_000);
const USERS = Number(process.env.USERS ?? 20_000);
const HEAVY = Number(process.env.HEAVY ?? 5_000);
const ROUNDS = Number(process.env.ROUNDS ?? 2000);
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { mean: sorted.reduce((s, x) => s + x, 0) / sorted.length, p50: at(0.5), p99: at(0.99) };
}

const show = (label: string, samples: number[]) => {
  const { mean, p50, p99 } = stats(samples);
  process.stdout.write(`${label.padEnd(44)} mean ${mean.toFixed(0).padStart(5)} µs   p50 ${p50.toFixed(0).padStart(5)} µs   p99 ${p99.toFixed(0).padStart(5)} µs\n`);
};

function newSession(userId: string, now: Date, ip: string): NewSessionRecord {
  return {
    id: randomUUID(),
    userId,
    roles: [],
    accessHash: randomBytes(32).toString('base64url'),
    refreshHash: randomBytes(32).toString('base64url'),
    accessExpiresAt: new Date(now.getTime() + 900_000),
    expiresAt: new Date(now.getTime() + 604_800_000),
    absoluteExpiresAt: new Date(now.getTime() + 2_592_000_000),
    createdAt: now,
    authenticatedAt: now,
    lastActivityAt: now,
    ipAddress: ip,
    userAgent: FIREFOX,
    deviceName: null,
    deviceType: null,
    deviceId: null,
    data: null,
  };
}

async function main() {
  const dataSource = await new DataSource({ type: 'postgres', url: DATABASE_URL, migrations: SESSION_MIGRATIONS, migrationsRun: true }).initialize();
  const store = new TypeOrmSessionStore(dataSource);
  const options = resolveSessionOptions({ secret: 'bench-secret-bench-secret-bench-secret-0', credentials: { verify: async () => null, findById: async () => null } });
  const detector = new NewDeviceDetector(store, new SessionEventPublisher(), options);
  try {
    await dataSource.query('TRUNCATE sessions CASCADE');
    // Spread over the last 60 days: half of each user's sessions are inside the 30-day lookback.
    await dataSource.query(
      `INSERT INTO sessions (id, user_id, access_hash, refresh_hash, access_expires_at, expires_at, absolute_expires_at,
         created_at, authenticated_at, last_activity_at, ip_address, user_agent)
       SELECT gen_random_uuid(), CASE WHEN g <= $3 THEN 'heavy' ELSE 'user-' || (g % $2) END, md5(g::text || 'a'), md5(g::text || 'r'),
         now(), now() + interval '7 days', now() + interval '30 days', c, c, c,
         '198.51.' || (g % 200) || '.' || (g % 250), $4
         FROM generate_series(1, $1) AS g, LATERAL (SELECT now() - (g % 5184000) * interval '1 second' AS c) AS t`,
      [SESSIONS, USERS, HEAVY, FIREFOX],
    );
    await dataSource.query('ANALYZE sessions');
    const plan = await dataSource.query(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
       SELECT created_at, ip_address, user_agent, device_id FROM sessions
        WHERE user_id = $1 AND created_at >= $2 AND id IS DISTINCT FROM $4::uuid
        ORDER BY created_at DESC LIMIT $3`,
      ['heavy', new Date(Date.now() - 2_592_000_000), 50, randomUUID()],
    );
    process.stdout.write(`sessions: ${SESSIONS}, users: ${USERS}, the heavy user: ${HEAVY} sessions\n\n`);
    process.stdout.write(`${plan.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')}\n\n`);

    for (const [label, userOf] of [
      ['check, a typical user (≈5 in the lookback)', (i: number) => `user-${i % USERS}`],
      ['check, the heavy user (50 rows read)', () => 'heavy'],
    ] as const) {
      const opened = [];
      const inserts: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now();
        const { session } = await store.insert(newSession(userOf(i), new Date(), `203.0.113.${i % 250}`));
        inserts.push((performance.now() - start) * 1000);
        opened.push(toSessionInfo(session));
      }
      const checks: number[] = [];
      for (const session of opened) {
        const start = performance.now();
        await detector.check(session);
        checks.push((performance.now() - start) * 1000);
      }
      show(label, checks);
      show('  (for scale: the INSERT of that login)', inserts);
    }
  } finally {
    await dataSource.query('TRUNCATE sessions CASCADE');
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
