/**
 * `npm run bench:rotation`: what one refresh (a rotation) costs PostgreSQL, in figures that do not
 * depend on how busy the machine is: statements (= round trips) per rotation, the index entries
 * the rotation's UPDATE writes (which indexes of `sessions` and `session_rotated_refresh_tokens`
 * a new row version of a live session enters), WAL records and bytes, buffers hit and dirtied
 * (EXPLAIN (ANALYZE, BUFFERS, WAL) of the statement, in a transaction that is rolled back), and
 * `pg_stat_user_tables`' updates against HOT updates after N rotations and N activity touches.
 * Timings are printed too, marked as load-dependent: rotations per second with the statement
 * prepared (the default) and parsed every time, in rounds taken in turn.
 *
 *   npm run bench:rotation                       # 2,000 sessions, 4 rotations each: ~25 s
 *   ROTATION_SESSIONS=20000 npm run bench:rotation
 *
 * A fresh database is created on TEST_DATABASE_URL's server and dropped at the end.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SESSION_MIGRATIONS } from '../src/session';
import { TypeOrmSessionStore } from '../src/session/adapters/typeorm/typeorm-session.store';
import type { LiveWindow, NewSessionRecord } from '../src/session/ports/session-record';
import { hashToken, mintRotationSecret, mintToken } from '../src/session/tokens';

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SESSIONS = Number(process.env.ROTATION_SESSIONS ?? 2000);
/** Rounds of one rotation per session: unprepared and prepared statements in turn, ABBA. */
const ROUNDS = Number(process.env.ROTATION_ROUNDS ?? 4);
const KEYS = ['rotation-cost-secret-0123456789abcdef0123456789'];
const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StatementCost {
  sql: string;
  walRecords: number;
  walFpi: number;
  walBytes: number;
  sharedHit: number;
  sharedRead: number;
  sharedDirtied: number;
  /** A separate locking read (SELECT … FOR UPDATE) before the write. */
  lockRows: boolean;
}

interface PlanNode {
  'Node Type': string;
  'CTE Name'?: string;
  'Subplan Name'?: string;
  'WAL Records'?: number;
  'WAL FPI'?: number;
  'WAL Bytes'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Shared Dirtied Blocks'?: number;
  Plans?: PlanNode[];
}

/** A DataSource whose `query` counts statements and, while `explaining`, records each one's plan totals. */
function instrument(dataSource: DataSource) {
  const state = { statements: 0, explaining: false, costs: [] as StatementCost[] };
  const query = dataSource.query.bind(dataSource);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (dataSource as any).query = async (sql: string, params?: unknown[]) => {
    state.statements++;
    if (state.explaining) state.costs.push(await explain(dataSource, sql, params));
    return query(sql, params);
  };
  return state;
}

/** EXPLAIN (ANALYZE, BUFFERS, WAL) of `sql` in a transaction that is rolled back: its effects are measured, not kept. */
async function explain(dataSource: DataSource, sql: string, params?: unknown[]): Promise<StatementCost> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    const [row] = await runner.query(`EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ${sql}`, params);
    await runner.rollbackTransaction();
    const plan: PlanNode = row['QUERY PLAN'][0].Plan;
    if (process.env.ROTATION_PLAN) process.stdout.write(`${JSON.stringify(plan, null, 1)}\n`);
    // The top node's totals include every CTE it reads; a data-modifying CTE nothing reads runs
    // after it, so its totals are added on top.
    const scanned = new Set<string>();
    const walk = (node: PlanNode) => {
      if (node['CTE Name']) scanned.add(node['CTE Name']);
      node.Plans?.forEach(walk);
    };
    walk(plan);
    const nodes = [plan, ...(plan.Plans ?? []).filter((p) => p['Subplan Name']?.startsWith('CTE ') && !scanned.has(p['Subplan Name'].slice(4)))];
    const sum = (key: keyof PlanNode) => nodes.reduce((total, node) => total + Number(node[key] ?? 0), 0);
    return {
      sql: sql.replace(/\s+/g, ' ').trim().slice(0, 60),
      walRecords: sum('WAL Records'),
      walFpi: sum('WAL FPI'),
      walBytes: sum('WAL Bytes'),
      sharedHit: sum('Shared Hit Blocks'),
      sharedRead: sum('Shared Read Blocks'),
      sharedDirtied: sum('Shared Dirtied Blocks'),
      lockRows: JSON.stringify(plan).includes('"LockRows"'),
    };
  } finally {
    await runner.release();
  }
}

function newSession(now: Date, i: number): { record: NewSessionRecord; refreshHash: string } {
  const refreshHash = hashToken(mintToken('refresh', KEYS));
  const day = 86_400_000;
  return {
    refreshHash,
    record: {
      id: randomUUID(),
      userId: `user-${i % 500}`,
      roles: ['user'],
      accessHash: hashToken(mintToken('access', KEYS)),
      refreshHash,
      accessExpiresAt: new Date(now.getTime() + 900_000),
      expiresAt: new Date(now.getTime() + 30 * day),
      absoluteExpiresAt: new Date(now.getTime() + 90 * day),
      createdAt: now,
      authenticatedAt: now,
      lastActivityAt: now,
      ipAddress: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      deviceName: 'Chrome on macOS',
      deviceType: 'desktop',
      deviceId: `device-${i}`,
      data: null,
    } as NewSessionRecord,
  };
}

/** The indexes of `table` whose predicate a row matching `where` satisfies: the ones a non-HOT update of it writes. */
async function indexesEntered(client: Client, table: string, where: string, params: unknown[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string; pred: string | null; def: string }>(
    `SELECT c.relname AS name, pg_get_expr(i.indpred, i.indrelid) AS pred, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1::regclass ORDER BY c.relname`,
    [table],
  );
  const entered: string[] = [];
  for (const index of rows) {
    const test = index.pred ? `(${index.pred})` : 'true';
    const { rows: hit } = await client.query(`SELECT 1 FROM ${table} WHERE ${where} AND ${test}`, params);
    if (hit.length > 0) entered.push(index.name);
  }
  return entered;
}

async function tableStats(client: Client, table: string) {
  const { rows } = await client.query<{ upd: string; hot: string; ins: string }>(
    `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_ins AS ins FROM pg_stat_user_tables WHERE relname = $1`,
    [table],
  );
  return { updates: Number(rows[0].upd), hot: Number(rows[0].hot), inserts: Number(rows[0].ins) };
}

async function main(): Promise<void> {
  const database = `rotcost_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  const report: Record<string, unknown> = { sessions: SESSIONS, rounds: ROUNDS };
  try {
    const dataSource = new DataSource({ type: 'postgres', url: url.toString(), migrations: SESSION_MIGRATIONS, migrationsRun: true, extra: { max: 4 } });
    await dataSource.initialize();
    // Statements are counted and explained through `dataSource.query`, which the store uses with
    // prepared statements off; the same SQL, prepared, is timed beside it.
    const store = new TypeOrmSessionStore(dataSource, { preparedStatements: false });
    const preparedStore = new TypeOrmSessionStore(dataSource);
    const state = instrument(dataSource);
    const now = new Date();
    const window = (): LiveWindow => ({ now: new Date(), activeSince: new Date(Date.now() - 86_400_000) });
    const sessions = Array.from({ length: SESSIONS }, (_, i) => newSession(now, i));
    for (let i = 0; i < sessions.length; i += 50) {
      await Promise.all(sessions.slice(i, i + 50).map((s) => store.insert(s.record)));
    }
    await dataSource.query('VACUUM (ANALYZE) sessions');
    await dataSource.query('CHECKPOINT').catch(() => undefined); // fewer full-page images in what follows

    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    const sessionIndexes = await indexesEntered(client, 'sessions', 'id = $1', [sessions[0].record.id]);
    await sleep(1200);
    const before = { sessions: await tableStats(client, 'sessions'), rotated: await tableStats(client, 'session_rotated_refresh_tokens') };

    state.statements = 0;
    let rotations = 0;
    const timed = { unprepared: { rotations: 0, ms: 0 }, prepared: { rotations: 0, ms: 0 } };
    for (let round = 0; round < ROUNDS; round++) {
      const kind = round % 4 === 0 || round % 4 === 3 ? 'unprepared' : 'prepared';
      const rotating = kind === 'prepared' ? preparedStore : store;
      const started = performance.now();
      for (let i = 0; i < sessions.length; i += 20) {
        await Promise.all(
          sessions.slice(i, i + 20).map(async (s) => {
            const next = target();
            const rotation = await rotating.rotate(s.refreshHash, next, window());
            if (!rotation) throw new Error('rotation matched no session');
            s.refreshHash = next.refreshHash;
            rotations++;
            timed[kind].rotations++;
          }),
        );
      }
      timed[kind].ms += performance.now() - started;
    }
    const rotateMs = timed.unprepared.ms + timed.prepared.ms;
    const statementsPerRotation = state.statements / Math.max(1, timed.unprepared.rotations);
    const perSecond = (t: { rotations: number; ms: number }) => (t.ms > 0 ? t.rotations / (t.ms / 1000) : NaN);
    // One more rotation, explained first (in a transaction rolled back), on pages the measured ones already wrote since the checkpoint.
    state.explaining = true;
    const sample = sessions[1];
    const sampleTarget = target();
    await store.rotate(sample.refreshHash, sampleTarget, window());
    state.explaining = false;
    const explained = state.costs.slice();
    // The real rotation of the sample ran after the explained (rolled-back) one.
    sample.refreshHash = sampleTarget.refreshHash;


    // Activity touches (the other frequent write): one `touchMany` per 100 sessions.
    state.statements = 0;
    const touchAt = new Date(Date.now() + 60_000);
    for (let i = 0; i < sessions.length; i += 100) {
      await store.touchMany(sessions.slice(i, i + 100).map((s) => ({ id: s.record.id, at: touchAt })));
    }
    await dataSource.destroy(); // the backends flush their statistics as they exit
    await sleep(1500);
    const after = { sessions: await tableStats(client, 'sessions'), rotated: await tableStats(client, 'session_rotated_refresh_tokens') };
    const rotatedIndexes = await indexesEntered(client, 'session_rotated_refresh_tokens', 'true', []);
    const touched = SESSIONS;
    const updates = after.sessions.updates - before.sessions.updates;
    const hot = after.sessions.hot - before.sessions.hot;
    // The sample's explained rotation was rolled back (it counts as an update all the same) and its real one ran too.
    const rotationUpdates = rotations + 2;
    await client.end();

    Object.assign(report, {
      statementsPerRotation,
      explained,
      sessionsIndexesEnteredByNonHotUpdate: sessionIndexes,
      rotatedTokenIndexesEnteredByInsert: rotatedIndexes,
      indexEntriesPerRotation: sessionIndexes.length + rotatedIndexes.length,
      sessionsUpdates: updates,
      sessionsHotUpdates: hot,
      rotationUpdates,
      touchUpdates: updates - rotationUpdates,
      touched,
      busyMachineRotationsPerSecond: rotations / (rotateMs / 1000),
      busyMachineMsPerRotation: rotateMs / rotations,
      busyMachineRotationsPerSecondUnprepared: perSecond(timed.unprepared),
      busyMachineRotationsPerSecondPrepared: perSecond(timed.prepared),
    });
    out(`rotation cost (${SESSIONS} live sessions, ${ROUNDS} rotations each)`);
    out(`  statements (round trips) per rotation: ${statementsPerRotation}`);
    for (const cost of explained) {
      out(`  ${cost.sql}…`);
      out(`    WAL records ${cost.walRecords} (full-page images ${cost.walFpi}: depend on checkpoint timing), ${cost.walBytes} bytes; buffers hit ${cost.sharedHit}, read ${cost.sharedRead}, dirtied ${cost.sharedDirtied}; separate locking read: ${cost.lockRows ? 'yes' : 'no'}`);
    }
    out(`  index entries per rotation: ${sessionIndexes.length + rotatedIndexes.length}`);
    out(`    sessions (${sessionIndexes.length}): ${sessionIndexes.join(', ')}`);
    out(`    session_rotated_refresh_tokens (${rotatedIndexes.length}): ${rotatedIndexes.join(', ')}`);
    out(`  sessions updates ${updates}, HOT ${hot} (${((100 * hot) / Math.max(1, updates)).toFixed(1)}%): ${rotationUpdates} rotations, ${updates - rotationUpdates} activity touches of ${touched} sessions`);
    out(
      `  [load-dependent, busy machine] rotations/s at 20 concurrent, rounds in turn (ABBA): ${perSecond(timed.prepared).toFixed(0)} with prepared statements (the default), ` +
        `${perSecond(timed.unprepared).toFixed(0)} parsed every time (preparedStatements: false): ×${(perSecond(timed.prepared) / perSecond(timed.unprepared)).toFixed(2)}`,
    );
    if (process.env.ROTATION_JSON) out(JSON.stringify(report));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

function target() {
  const at = Date.now();
  return {
    accessHash: hashToken(mintToken('access', KEYS)),
    refreshHash: hashToken(mintToken('refresh', KEYS)),
    accessExpiresAt: new Date(at + 900_000),
    expiresAt: new Date(at + 30 * 86_400_000),
    rotationSecret: mintRotationSecret(),
  };
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
