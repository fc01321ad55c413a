/**
 * `npm run bench:capacity` (issue 15): what one validation, refresh, login and logout costs, in
 * server CPU, Redis commands, SQL statements and PostgreSQL CPU, measured against real servers in
 * one run; bytes per session in PostgreSQL and Redis; a 4-instance run on this machine (per
 * instance, next to one instance alone); and, from those figures and assumptions stated in the
 * output, what 10,000 and 100,000 authenticated requests per second over 10 million sessions need.
 * Writes bench/capacity.md (which `npm run bench` appends to BENCHMARKS.md when it exists) and
 * bench/capacity.json.
 *
 *   npm run bench:capacity                         # ~3 minutes on 2 cores
 *   CAP_ROWS=1000000 npm run bench:capacity        # storage slope up to 1,000,000 rows
 *
 * Method:
 * - A PostgreSQL database of its own (created on TEST_DATABASE_URL's server, dropped at the end)
 *   and a redis-server of its own on a free loopback port (killed at the end): the Redis command
 *   statistics and the Redis process's CPU are the run's alone.
 * - The app is the compiled dist/main.js (run `npm run build` first when src/ changed), Express,
 *   the lean configuration of `npm run bench` (binding off, bearer tokens, LOG_LEVEL=warn, rate
 *   limits raised out of the way but still counted), TRUST_PROXY=true so each request can come
 *   from its own client address (X-Forwarded-For), as at scale, where the rate limiter's batching
 *   per client address and route saves nothing.
 * - Each app process is started with a preload (`-r`, written to a temporary file) that counts,
 *   in that process, every SQL statement sent through `pg` and every command sent through
 *   `ioredis`, and writes the counts on SIGWINCH (not SIGUSR2: Nest's shutdown hooks end the app on that one). A phase's figures are the deltas over the phase
 *   (and 1.2 s after it, for the write-behind and audit batches) minus what the process does idle
 *   over as long (measured first).
 * - Server CPU: utime + stime of the app process (/proc); PostgreSQL CPU: of the backends
 *   connected to the run's database; Redis CPU: of the private redis-server.
 * - Storage: a session made by the app (logged in, refreshed) is cloned with SQL (fresh ids,
 *   hashes and device ids of the same lengths, users spread 3 sessions each) to CAP_ROWS/2 and
 *   CAP_ROWS rows; bytes per row are the slope of `pg_total_relation_size` between the two
 *   (fixed overhead out). Likewise rotated refresh hashes and audit entries.
 */
import { ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { LoadJob, LoadResult, PoolEntry } from './load-driver';
import { freePort, type JsonAnswer, requestJson } from './local-http';

const ROOT = resolve(__dirname, '..');
const APP = join(ROOT, 'dist', 'main.js');
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.env.CAP_ROWS ?? 200_000);
const SESSIONS = Number(process.env.CAP_SESSIONS ?? 200);
const VALIDATIONS = Number(process.env.CAP_VALIDATIONS ?? 5000);
const LOAD_SECONDS = Number(process.env.CAP_LOAD_SECONDS ?? 5);
const LOAD_CONNECTIONS = Number(process.env.CAP_CONNECTIONS ?? 48);
const INSTANCES = 4;
const CONCURRENCY = 16;
const WARMUP = Number(process.env.CAP_WARMUP ?? 3000);
const PASSWORD = 'capacity-password-1';
const SECRET = 'capacity-bench-secret-0123456789abcdef0123456789';
const TAG = `cap15_${randomBytes(4).toString('hex')}`;
const CLK_TCK = 100;
const STATS_SETTLE_MS = Number(process.env.CAP_STATS_SETTLE_MS ?? 10_500);

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const dec = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const sum = (values: number[]) => values.reduce((s, v) => s + v, 0);

// ------------------------------------------------------------------ the counting preload

const PROBE = `
const { writeFileSync } = require('node:fs');
const counts = { sql: {}, redis: {} };
const key = (text) => text.replace(/\\s+/g, ' ').trim().slice(0, 72);
const pg = require(${JSON.stringify(require.resolve('pg', { paths: [ROOT] }))});
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : config && config.text;
  if (text) counts.sql[key(text)] = (counts.sql[key(text)] || 0) + 1;
  return query.call(this, config, ...rest);
};
const ioredis = require(${JSON.stringify(require.resolve('ioredis', { paths: [ROOT] }))});
for (const Class of [ioredis.Redis || ioredis, ioredis.Cluster].filter(Boolean)) {
  const send = Class.prototype.sendCommand;
  Class.prototype.sendCommand = function (command, ...rest) {
    const name = command && command.name;
    if (name) counts.redis[name] = (counts.redis[name] || 0) + 1;
    return send.call(this, command, ...rest);
  };
}
process.on('SIGWINCH', () => writeFileSync(process.env.CAP_PROBE_FILE, JSON.stringify(counts)));
`;

interface Counts {
  sql: Record<string, number>;
  redis: Record<string, number>;
}

// ------------------------------------------------------------------ processes


/** utime + stime of a process, in µs (0 when it is gone). */
function cpuMicros(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return 0;
  }
}

interface App {
  name: string;
  port: number;
  child: ChildProcess;
  probeFile: string;
  output: string;
}

async function startApp(name: string, env: Record<string, string>, probePath: string, databaseUrl: string, redisUrl: string): Promise<App> {
  const port = await freePort();
  const probeFile = join(os.tmpdir(), `${TAG}-${name}.json`);
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', `${TAG}-${name}`);
  const child = spawn(process.execPath, ['-r', probePath, APP], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HTTP_ADAPTER: 'express',
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: 'nsm:',
      SESSION_SECRET: SECRET,
      SESSION_BINDING: 'off',
      TRUST_PROXY: 'true',
      THROTTLE_LIMIT: '1000000000',
      THROTTLE_LOGIN_LIMIT: '1000000000',
      SESSION_MAX_PER_USER: '1000000',
      SESSION_ACCESS_TTL: '86400',
      SESSION_CLEANUP_INTERVAL: '0',
      SESSION_SWEEP_INTERVAL: '0',
      LOG_LEVEL: 'warn',
      CAP_PROBE_FILE: probeFile,
      ...env,
    },
  });
  const app: App = { name, port, child, probeFile, output: '' };
  const keep = (chunk: Buffer) => {
    app.output = (app.output + chunk.toString()).slice(-10_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const by = Date.now() + 60_000;
  while (Date.now() < by && child.exitCode === null) {
    const answer = await request(app, 'GET', '/ping').catch(() => null);
    if (answer?.status === 200) return app;
    await sleep(200);
  }
  throw new Error(`${name} did not come up:\n${app.output}`);
}

async function stopApp(app: App): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = new Promise((done) => app.child.once('exit', done));
  app.child.kill('SIGTERM');
  if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) {
    app.child.kill('SIGKILL');
    await exited;
  }
  rmSync(app.probeFile, { force: true });
}

async function probe(app: App): Promise<Counts> {
  const before = existsSync(app.probeFile) ? statSync(app.probeFile).mtimeMs : 0;
  rmSync(app.probeFile, { force: true });
  app.child.kill('SIGWINCH');
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    if (existsSync(app.probeFile) && statSync(app.probeFile).mtimeMs >= before) {
      try {
        return JSON.parse(readFileSync(app.probeFile, 'utf8')) as Counts;
      } catch {
        // half written: read again
      }
    }
  }
  throw new Error(`${app.name}: no counts from the probe`);
}

// ------------------------------------------------------------------ HTTP

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(app: App, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonAnswer> {
  return requestJson(app.port, method, path, { ...options, agent, headers: { 'user-agent': 'capacity-bench/1.0', ...options.headers } });
}

/** A client address of its own per request: 10.x.y.z from a counter. */
const clientIp = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
let ipCounter = 1;
const nextIp = () => clientIp(ipCounter++);

async function inParallel(n: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

// ------------------------------------------------------------------ measurement

interface Snapshot {
  at: number;
  counts: Counts;
  appCpu: number;
  redisCpu: number;
  pgCpu: number;
  redisCalls: number;
  tables: Record<string, { ins: number; upd: number; del: number }>;
}

interface Context {
  pg: Client;
  redis: Redis;
  redisPid: number;
  database: string;
}

async function pgBackendsCpu(ctx: Context): Promise<number> {
  const { rows } = await ctx.pg.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [ctx.database]);
  return sum(rows.map((r) => cpuMicros(r.pid)));
}

async function redisCalls(ctx: Context): Promise<number> {
  const info = await ctx.redis.info('commandstats');
  let calls = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m && m[1] !== 'info') calls += Number(m[2]);
  }
  return calls;
}

async function tableStats(ctx: Context): Promise<Snapshot['tables']> {
  const { rows } = await ctx.pg.query<{ relname: string; ins: string; upd: string; del: string }>(
    `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del FROM pg_stat_user_tables`,
  );
  return Object.fromEntries(rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del) }]));
}

async function snapshot(ctx: Context, apps: App[]): Promise<Snapshot> {
  const counts = await Promise.all(apps.map(probe));
  const merged: Counts = { sql: {}, redis: {} };
  for (const c of counts) {
    for (const [k, v] of Object.entries(c.sql)) merged.sql[k] = (merged.sql[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.redis)) merged.redis[k] = (merged.redis[k] ?? 0) + v;
  }
  return {
    at: Date.now(),
    counts: merged,
    appCpu: sum(apps.map((a) => cpuMicros(a.child.pid))),
    redisCpu: cpuMicros(ctx.redisPid),
    pgCpu: await pgBackendsCpu(ctx),
    redisCalls: await redisCalls(ctx),
    tables: await tableStats(ctx),
  };
}

const diffMap = (a: Record<string, number>, b: Record<string, number>) => {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (v - (a[k] ?? 0) > 0) d[k] = v - (a[k] ?? 0);
  return d;
};

/** What an app process does with nothing to do, per second: subtracted from every phase. */
interface Idle {
  sqlPerS: number;
  redisPerS: number;
  redis: Record<string, number>;
  sql: Record<string, number>;
  seconds: number;
}

async function measureIdle(ctx: Context, app: App, seconds: number): Promise<Idle> {
  const a = await snapshot(ctx, [app]);
  await sleep(seconds * 1000);
  const b = await snapshot(ctx, [app]);
  const s = (b.at - a.at) / 1000;
  const sql = diffMap(a.counts.sql, b.counts.sql);
  const redis = diffMap(a.counts.redis, b.counts.redis);
  return { sqlPerS: sum(Object.values(sql)) / s, redisPerS: sum(Object.values(redis)) / s, sql, redis, seconds: s };
}

interface OpCost {
  op: string;
  n: number;
  seconds: number;
  /** Server CPU per operation, µs. */
  appCpu: number;
  pgCpu: number;
  redisCpu: number;
  sql: number;
  /** Statements that write (not SELECT, BEGIN, COMMIT). */
  sqlWrites: number;
  redis: number;
  /** Commands the private redis-server executed, per operation (all clients: the app's subscriber included, INFO excluded). */
  redisServer: number;
  sqlByText: Record<string, number>;
  redisByName: Record<string, number>;
  rows: Record<string, { ins: number; upd: number; del: number }>;
  failures: number;
}

const isWrite = (text: string) => !/^(SELECT|BEGIN|COMMIT|ROLLBACK|START|SET|SHOW)\b/i.test(text) || /\b(INSERT|UPDATE|DELETE)\b/i.test(text.slice(0, 200));

async function phase(ctx: Context, app: App, idle: Idle, op: string, n: number, job: (i: number) => Promise<boolean>): Promise<OpCost> {
  const a = await snapshot(ctx, [app]);
  let failures = 0;
  await inParallel(n, CONCURRENCY, async (i) => {
    if (!(await job(i))) failures++;
  });
  await sleep(1200); // the activity write-behind (1 s) and the audit batch
  const b = await snapshot(ctx, [app]);
  // An idle PostgreSQL backend reports its table counters up to 10 s late (PGSTAT_IDLE_INTERVAL).
  await sleep(STATS_SETTLE_MS);
  b.tables = await tableStats(ctx);
  const seconds = (b.at - a.at) / 1000;
  const sqlByText = diffMap(a.counts.sql, b.counts.sql);
  const redisByName = diffMap(a.counts.redis, b.counts.redis);
  const per = (x: number) => x / n;
  const rows: OpCost['rows'] = {};
  for (const [table, after] of Object.entries(b.tables)) {
    const before = a.tables[table] ?? { ins: 0, upd: 0, del: 0 };
    const d = { ins: per(after.ins - before.ins), upd: per(after.upd - before.upd), del: per(after.del - before.del) };
    if (d.ins || d.upd || d.del) rows[table] = d;
  }
  const sqlTotal = sum(Object.values(sqlByText)) - idle.sqlPerS * seconds;
  const writes = sum(Object.entries(sqlByText).filter(([k]) => isWrite(k)).map(([, v]) => v)) - sum(Object.entries(idle.sql).filter(([k]) => isWrite(k)).map(([, v]) => v)) * (seconds / idle.seconds);
  const cost: OpCost = {
    op,
    n,
    seconds,
    appCpu: per(b.appCpu - a.appCpu),
    pgCpu: Math.max(0, per(b.pgCpu - a.pgCpu)),
    redisCpu: per(b.redisCpu - a.redisCpu),
    sql: Math.max(0, per(sqlTotal)),
    sqlWrites: Math.max(0, per(writes)),
    redis: Math.max(0, per(sum(Object.values(redisByName)) - idle.redisPerS * seconds)),
    redisServer: per(b.redisCalls - a.redisCalls),
    sqlByText,
    redisByName,
    rows,
    failures,
  };
  out(
    `capacity: ${op}: n=${n} in ${dec(seconds, 1)} s, app ${int(cost.appCpu)} µs, PG ${int(cost.pgCpu)} µs, Redis ${int(cost.redisCpu)} µs; ` +
      `SQL ${dec(cost.sql)} (writes ${dec(cost.sqlWrites)}), Redis cmds ${dec(cost.redis)} (server saw ${dec(cost.redisServer)})${failures ? `; ${failures} FAILED` : ''}`,
  );
  return cost;
}

// ------------------------------------------------------------------ storage

interface Storage {
  table: string;
  rows: [number, number];
  bytes: [number, number];
  perRow: number;
}

async function relationBytes(pg: Client, table: string): Promise<number> {
  const { rows } = await pg.query<{ b: string }>(`SELECT pg_total_relation_size($1::regclass) AS b`, [table]);
  return Number(rows[0].b);
}

async function columns(pg: Client, table: string): Promise<string[]> {
  const { rows } = await pg.query<{ c: string }>(
    `SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1 AND table_schema = 'public' ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => r.c);
}

/** A string as long as the template column's value, unique per g. */
const sameLength = (col: string, g: string) =>
  `CASE WHEN t.${col} IS NULL THEN NULL ELSE substr(encode(sha256((${g}::text || '${col}' || t.${col})::bytea), 'base64') || md5(${g}::text), 1, length(t.${col})) END`;

async function cloneRows(pg: Client, table: string, from: number, to: number, overrides: Record<string, string>, where: string): Promise<void> {
  const cols = await columns(pg, table);
  const list = cols.filter((c) => !(c === 'id' && overrides.id === undefined && table === 'session_audit'));
  const select = list.map((c) => overrides[c] ?? `t.${c}`).join(', ');
  await pg.query(`INSERT INTO ${table} (${list.join(', ')}) SELECT ${select} FROM ${table} t, generate_series(${from}, ${to}) g WHERE ${where}`);
}

async function storageSlope(pg: Client, table: string, fill: (from: number, to: number) => Promise<void>): Promise<Storage> {
  const count = async () => Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const half = Math.round(ROWS / 2);
  const start = await count();
  await fill(1, half - start);
  await pg.query(`VACUUM ANALYZE ${table}`);
  const r1 = await count();
  const b1 = await relationBytes(pg, table);
  await fill(half - start + 1, ROWS - start);
  await pg.query(`VACUUM ANALYZE ${table}`);
  const r2 = await count();
  const b2 = await relationBytes(pg, table);
  const s: Storage = { table, rows: [r1, r2], bytes: [b1, b2], perRow: (b2 - b1) / (r2 - r1) };
  out(`capacity: ${table}: ${int(r1)} rows ${int(b1 / 1e6)} MB, ${int(r2)} rows ${int(b2 / 1e6)} MB: ${int(s.perRow)} bytes/row`);
  return s;
}

async function measureStorage(pg: Client, templateSession: string, auditType: string): Promise<Storage[]> {
  const result: Storage[] = [];
  result.push(
    await storageSlope(pg, 'sessions', (from, to) =>
      cloneRows(
        pg,
        'sessions',
        from,
        to,
        {
          id: 'gen_random_uuid()',
          user_id: `'cap-user-' || (g / 3)`,
          access_hash: sameLength('access_hash', 'g'),
          refresh_hash: sameLength('refresh_hash', 'g'),
          previous_refresh_hash: sameLength('previous_refresh_hash', 'g'),
          previous_access_hash: sameLength('previous_access_hash', 'g'),
          rotation_secret: sameLength('rotation_secret', 'g'),
          device_id: sameLength('device_id', 'g'),
          created_at: `t.created_at - make_interval(secs => g % 2592000)`,
          last_activity_at: `t.last_activity_at - make_interval(secs => g % 604800)`,
        },
        `t.id = '${templateSession}'`,
      ),
    ),
  );
  // Rotated refresh hashes: one row per rotation, kept max(refreshTtl, accessTtl) after it.
  const ids = `(SELECT id, row_number() OVER () AS k FROM sessions LIMIT ${Math.round(ROWS / 3)})`;
  result.push(
    await storageSlope(pg, 'session_rotated_refresh_tokens', async (from, to) => {
      const cols = await columns(pg, 'session_rotated_refresh_tokens');
      const sel = cols.map((c) => (c === 'hash' || c === 'access_hash' ? sameLength(c, 'g') : c === 'session_id' ? 's.id' : `t.${c}`)).join(', ');
      await pg.query(
        `INSERT INTO session_rotated_refresh_tokens (${cols.join(', ')})
         SELECT ${sel} FROM (SELECT * FROM session_rotated_refresh_tokens LIMIT 1) t, generate_series(${from}, ${to}) g
           JOIN ${ids} s ON s.k = 1 + g % ${Math.round(ROWS / 3)}`,
      );
    }),
  );
  result.push(
    await storageSlope(pg, 'session_audit', async (from, to) => {
      const cols = (await columns(pg, 'session_audit')).filter((c) => c !== 'id');
      const sel = cols.map((c) => (c === 'user_id' ? `'cap-user-' || (g / 3)` : c === 'session_id' ? 'gen_random_uuid()' : c === 'at' ? `t.at - make_interval(secs => g % 2592000)` : `t.${c}`)).join(', ');
      await pg.query(
        `INSERT INTO session_audit (${cols.join(', ')}) SELECT ${sel} FROM (SELECT * FROM session_audit WHERE type = $1 LIMIT 1) t, generate_series(${from}, ${to}) g`,
        [auditType],
      );
    }),
  );
  return result;
}

// ------------------------------------------------------------------ multi-instance load

interface LoadRun {
  label: string;
  instances: number;
  perInstanceRps: number[];
  perInstanceCpuUs: number[];
  totalRps: number;
  redisCmdsPerReq: number;
  redisCpuPerReq: number;
  pgCpuPerReq: number;
  sqlPerReq: number;
  statuses: Record<string, number>;
}

function loadDriver(): { run: (job: LoadJob) => Promise<LoadResult>; stop: () => void } {
  const child = fork(join(__dirname, 'load-driver.ts'), [], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending: ((r: LoadResult) => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  child.on('message', (m: { ok: boolean; result?: LoadResult; error?: string }) => (m.ok ? pending?.(m.result!) : failed?.(new Error(m.error))));
  return {
    run: (job) =>
      new Promise((done, fail) => {
        pending = done;
        failed = fail;
        child.send(job);
      }),
    stop: () => child.disconnect(),
  };
}

async function loadRun(
  ctx: Context,
  label: string,
  apps: App[],
  drivers: ReturnType<typeof loadDriver>[],
  job: (app: App, index: number) => LoadJob,
): Promise<LoadRun> {
  const a = await snapshot(ctx, apps);
  const cpuBefore = apps.map((x) => cpuMicros(x.child.pid));
  const results = await Promise.all(apps.map((app, i) => drivers[i].run(job(app, i))));
  const cpuAfter = apps.map((x) => cpuMicros(x.child.pid));
  const b = await snapshot(ctx, apps);
  const served = results.map((r) => r.rps * r.seconds);
  const total = sum(served);
  const statuses: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const run: LoadRun = {
    label,
    instances: apps.length,
    perInstanceRps: results.map((r) => r.rps),
    perInstanceCpuUs: apps.map((_, i) => (cpuAfter[i] - cpuBefore[i]) / Math.max(1, served[i])),
    totalRps: sum(results.map((r) => r.rps)),
    redisCmdsPerReq: (b.redisCalls - a.redisCalls) / total,
    redisCpuPerReq: (b.redisCpu - a.redisCpu) / total,
    pgCpuPerReq: Math.max(0, b.pgCpu - a.pgCpu) / total,
    sqlPerReq: (sum(Object.values(b.counts.sql)) - sum(Object.values(a.counts.sql))) / total,
    statuses,
  };
  out(
    `capacity: ${label}: ${apps.length} instance(s), per instance ${run.perInstanceRps.map(int).join(' / ')} req/s, ` +
      `CPU ${run.perInstanceCpuUs.map(int).join(' / ')} µs/req; statuses ${JSON.stringify(statuses)}`,
  );
  return run;
}

// ------------------------------------------------------------------ main

interface Session {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

async function login(app: App, email: string): Promise<Session | null> {
  const res = await request(app, 'POST', '/auth/login', { body: { email, password: PASSWORD }, headers: { 'x-forwarded-for': nextIp() } });
  return res.status === 200 ? { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken, sessionId: res.body.sessionId } : null;
}

async function startRedis(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { port, child };
    } catch {
      client.disconnect();
      await sleep(50);
    }
  }
  throw new Error('private redis-server did not start');
}

export interface CapacityResult {
  ops: Record<string, OpCost>;
  idle: Idle;
  storage: Storage[];
  redisBytesPerSession: { memoryUsage: number; userSetPerSession: number; usedMemoryDelta: number; sessions: number };
  loads: LoadRun[];
  machine: { cores: number; model: string; loadStart: number[]; loadEnd: number[]; startedAt: string; seconds: number };
}

async function main(): Promise<void> {
  if (!existsSync(APP)) throw new Error('dist/main.js is missing: run `npm run build` first');
  const startedAt = new Date();
  const loadStart = os.loadavg();
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${TAG}`);
  const dbUrl = new URL(SERVER_URL);
  dbUrl.pathname = `/${TAG}`;
  const privateRedis = await startRedis();
  const redisUrl = `redis://127.0.0.1:${privateRedis.port}/0`;
  const probePath = join(os.tmpdir(), `${TAG}-probe.cjs`);
  writeFileSync(probePath, PROBE);
  const pg = new Client({ connectionString: dbUrl.toString() });
  const redis = new Redis({ port: privateRedis.port, host: '127.0.0.1' });
  const apps: App[] = [];
  const drivers: ReturnType<typeof loadDriver>[] = [];
  try {
    const ctx: Context = { pg, redis, redisPid: privateRedis.child.pid!, database: TAG };
    out(`capacity: database ${TAG}, private redis-server on port ${privateRedis.port}`);

    // --- one instance with the in-process cache (L1) on, one with it off (every validation reads Redis).
    const l1 = await startApp('l1', {}, probePath, dbUrl.toString(), redisUrl);
    apps.push(l1);
    await pg.connect();
    const nol1 = await startApp('nol1', { SESSION_LOCAL_CACHE_TTL: '0' }, probePath, dbUrl.toString(), redisUrl);
    apps.push(nol1);
    const users = Array.from({ length: 20 }, (_, i) => `cap${i}@example.com`);
    for (const email of users) {
      const res = await request(nol1, 'POST', '/auth/register', { body: { email, password: PASSWORD }, headers: { 'x-forwarded-for': nextIp() } });
      if (res.status !== 201) throw new Error(`register answered ${res.status}`);
    }
    await sleep(1500);
    const idle = await measureIdle(ctx, nol1, 6);
    out(`capacity: idle instance: ${dec(idle.sqlPerS)} SQL/s, ${dec(idle.redisPerS)} Redis commands/s (${JSON.stringify(idle.redis)})`);

    const ops: Record<string, OpCost> = {};
    const sessions: Session[] = [];
    // Warm-up (JIT) of both processes on the routes measured, before anything is measured.
    const warmup = await login(nol1, users[0]);
    if (!warmup) throw new Error('warm-up login failed');
    for (const app of [l1, nol1]) {
      await inParallel(WARMUP, CONCURRENCY, async (i) => {
        await request(app, 'GET', i % 2 ? '/ping' : '/ping/secure', { headers: { authorization: `Bearer ${warmup.accessToken}`, 'x-forwarded-for': nextIp() } });
      });
    }
    ops.login = await phase(ctx, nol1, idle, 'login', SESSIONS, async (i) => {
      const s = await login(nol1, users[i % users.length]);
      if (s) sessions.push(s);
      return s !== null;
    });
    // Validation from PostgreSQL: the sessions' Redis entries gone (as after their 300 s cache TTL).
    const sessionKeys = await redis.keys('nsm:*s:*');
    const usedBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    if (sessionKeys.length) await redis.del(...sessionKeys);
    const usedEmpty = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const bearer = (s: Session) => ({ authorization: `Bearer ${s.accessToken}`, 'x-forwarded-for': nextIp() });
    const validate = (app: App, s: Session) => request(app, 'GET', '/ping/secure', { headers: bearer(s) }).then((r) => r.status === 200);
    ops.validatePg = await phase(ctx, nol1, idle, 'validation, from PostgreSQL (Redis miss)', sessions.length, (i) => validate(nol1, sessions[i]));
    const usedFilled = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    ops.validateRedis = await phase(ctx, nol1, idle, 'validation, from Redis (L1 off)', Math.min(VALIDATIONS, sessions.length * 10), (i) => validate(nol1, sessions[i % sessions.length]));
    // Redis bytes per cached session.
    const sampleKeys = (await redis.keys('nsm:*s:*')).slice(0, 200);
    const usage = await Promise.all(sampleKeys.map((k) => redis.memory('USAGE', k, 'SAMPLES', '0')));
    const userKeys = await redis.keys('nsm:*u:*');
    const userUsage = await Promise.all(userKeys.map((k) => redis.memory('USAGE', k, 'SAMPLES', '0')));
    const cachedSessions = (await redis.keys('nsm:*s:*')).length;
    const redisBytesPerSession = {
      memoryUsage: sum(usage.map(Number)) / Math.max(1, usage.length),
      userSetPerSession: sum(userUsage.map(Number)) / Math.max(1, cachedSessions),
      usedMemoryDelta: (usedFilled - usedEmpty) / Math.max(1, sessions.length),
      sessions: cachedSessions,
    };
    out(`capacity: Redis per cached session: MEMORY USAGE ${int(redisBytesPerSession.memoryUsage)} B + user set share ${int(redisBytesPerSession.userSetPerSession)} B; used_memory delta ${int(redisBytesPerSession.usedMemoryDelta)} B (before delete ${int(usedBefore)})`);

    // Validation from the in-process cache: one session, warm, every request from another address.
    const warm = sessions[0];
    for (let i = 0; i < 20; i++) await validate(l1, warm);
    ops.validateL1 = await phase(ctx, l1, idle, 'validation, in-process cache (L1)', VALIDATIONS, () => validate(l1, warm));
    ops.validateL1OneIp = await phase(ctx, l1, idle, 'validation, L1, one client address', VALIDATIONS, () =>
      request(l1, 'GET', '/ping/secure', { headers: { authorization: `Bearer ${warm.accessToken}`, 'x-forwarded-for': '10.200.0.1' } }).then((r) => r.status === 200),
    );
    ops.open = await phase(ctx, l1, idle, 'open route GET /ping (no session)', VALIDATIONS, () =>
      request(l1, 'GET', '/ping', { headers: { 'x-forwarded-for': nextIp() } }).then((r) => r.status === 200),
    );

    // Refresh: every session once, then again.
    const refreshed: Session[] = [];
    const refreshOne = async (s: Session) => {
      const res = await request(nol1, 'POST', '/auth/refresh', { body: { refreshToken: s.refreshToken }, headers: { 'x-forwarded-for': nextIp() } });
      if (res.status !== 200) return null;
      return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken, sessionId: res.body.sessionId } as Session;
    };
    ops.refresh = await phase(ctx, nol1, idle, 'refresh (rotation)', sessions.length, async (i) => {
      const next = await refreshOne(sessions[i]);
      if (next) refreshed[i] = next;
      return next !== null;
    });
    const template = refreshed.find(Boolean)!;
    // Logout (revocation of one session): half of them; the other half stays for the storage template.
    const leaving = refreshed.filter(Boolean).slice(1, 1 + Math.floor(refreshed.length / 2));
    ops.logout = await phase(ctx, nol1, idle, 'logout (revocation)', leaving.length, (i) =>
      request(nol1, 'POST', '/auth/logout', { headers: bearer(leaving[i]) }).then((r) => r.status === 204),
    );

    // --- 4 instances on this machine against one of them alone (same PostgreSQL and Redis).
    await stopApp(nol1);
    apps.splice(apps.indexOf(nol1), 1);
    for (let i = 0; i < INSTANCES; i++) drivers.push(loadDriver());
    const pools: PoolEntry[][] = [];
    const poolFor = async (app: App, count: number) => {
      const pool: PoolEntry[] = [];
      await inParallel(count, 4, async (i) => {
        const s = await login(app, users[i % users.length]);
        if (s) pool.push({ sessionId: s.sessionId, refreshToken: s.refreshToken });
      });
      return pool;
    };
    const perConn = Math.max(1, Math.round(LOAD_CONNECTIONS / INSTANCES));
    const loadSession = await login(l1, users[1]);
    if (!loadSession) throw new Error('login for the load runs failed');
    const guardedJob = (app: App): LoadJob => ({
      url: `http://127.0.0.1:${app.port}`,
      method: 'GET',
      path: '/ping/secure',
      headers: { authorization: `Bearer ${loadSession.accessToken}` },
      connections: app === l1 && apps.length === 1 ? LOAD_CONNECTIONS : perConn,
      seconds: LOAD_SECONDS,
    });
    const loads: LoadRun[] = [];
    loads.push(await loadRun(ctx, 'guarded GET /ping/secure (L1 warm)', [l1], drivers, guardedJob));
    pools[0] = await poolFor(l1, LOAD_CONNECTIONS + 8);
    const refreshJob = (app: App, i: number): LoadJob => ({
      url: `http://127.0.0.1:${app.port}`,
      method: 'POST',
      path: '/auth/refresh',
      headers: { 'content-type': 'application/json' },
      connections: apps.length === 1 ? LOAD_CONNECTIONS : perConn,
      seconds: LOAD_SECONDS,
      refreshPool: pools[i],
    });
    loads.push(await loadRun(ctx, 'POST /auth/refresh', [l1], drivers, refreshJob));
    for (let i = 1; i < INSTANCES; i++) apps.push(await startApp(`i${i}`, {}, probePath, dbUrl.toString(), redisUrl));
    for (let i = 0; i < INSTANCES; i++) pools[i] = await poolFor(apps[i], perConn + 4);
    for (const app of apps.slice(1)) {
      await inParallel(WARMUP, CONCURRENCY, async (i) => {
        await request(app, 'GET', i % 2 ? '/ping' : '/ping/secure', { headers: { authorization: `Bearer ${loadSession.accessToken}`, 'x-forwarded-for': nextIp() } });
      });
    }
    for (const app of apps) for (let i = 0; i < 20; i++) await validate(app, loadSession);
    await sleep(1000);
    loads.push(await loadRun(ctx, 'guarded GET /ping/secure (L1 warm)', apps, drivers, guardedJob));
    loads.push(await loadRun(ctx, 'POST /auth/refresh', apps, drivers, refreshJob));

    // --- storage per row, from a session the app made (logged in, refreshed).
    const auditType = (await pg.query<{ type: string }>(`SELECT type FROM session_audit GROUP BY type ORDER BY count(*) DESC LIMIT 1`)).rows[0]?.type ?? 'login';
    const storage = await measureStorage(pg, template.sessionId, auditType);

    const result: CapacityResult = {
      ops,
      idle,
      storage,
      redisBytesPerSession,
      loads,
      machine: {
        cores: os.cpus().length,
        model: os.cpus()[0]?.model ?? '?',
        loadStart,
        loadEnd: os.loadavg(),
        startedAt: startedAt.toISOString(),
        seconds: (Date.now() - startedAt.getTime()) / 1000,
      },
    };
    writeFileSync(join(__dirname, 'capacity.json'), `${JSON.stringify({ ...result, auditType }, null, 1)}\n`);
    writeFileSync(join(__dirname, 'capacity.md'), capacityMarkdown(result, auditType));
    out(`capacity: wrote bench/capacity.md and bench/capacity.json in ${int(result.machine.seconds)} s`);
  } finally {
    for (const d of drivers) d.stop();
    await Promise.all(apps.map(stopApp));
    await pg.end().catch(() => undefined);
    redis.disconnect();
    privateRedis.child.kill('SIGKILL');
    rmSync(probePath, { force: true });
    await admin.query(`DROP DATABASE IF EXISTS ${TAG} WITH (FORCE)`).catch((e: Error) => out(`capacity: could not drop ${TAG}: ${e.message}`));
    await admin.end();
  }
}

// ------------------------------------------------------------------ the plan

/** Assumptions of the plan: each one overridable, each one printed with the section. */
const ASSUME = {
  sessions: Number(process.env.CAP_PLAN_SESSIONS ?? 10_000_000),
  /** Seconds between two authenticated requests of one active session. */
  requestInterval: Number(process.env.CAP_PLAN_REQUEST_INTERVAL ?? 10),
  /** SESSION_ACCESS_TTL's default: an active session refreshes once per access token lifetime. */
  accessTtl: 900,
  /** SESSION_LOCAL_CACHE_TTL's default. */
  l1Ttl: 10,
  /** The Redis copy's lifetime (session options' cacheTtl default). */
  redisTtl: 300,
  /** The activity write interval per session (min(60, idleTtl/20) with the default idle TTL). */
  activityInterval: 60,
  /** Average life of a session, login to end (days): logins per day = sessions / this. */
  sessionLifeDays: Number(process.env.CAP_PLAN_SESSION_LIFE_DAYS ?? 7),
  /** Peak login rate over the day's average. */
  loginPeak: Number(process.env.CAP_PLAN_LOGIN_PEAK ?? 3),
  /** Sessions that end by logout (the rest expire or are idle). */
  logoutShare: Number(process.env.CAP_PLAN_LOGOUT_SHARE ?? 0.25),
  /** SESSION_RETENTION's default: ended sessions and audit entries are kept this long. */
  retentionDays: 30,
  /**
   * SESSION_REFRESH_TTL's default (days): the cleanup deletes a rotated refresh hash
   * max(refreshTtl, accessTtl) after its rotation, of live and ended sessions alike.
   */
  refreshTtlDays: 7,
  /** CPU headroom: plan app instances, Redis shards and PostgreSQL cores at this utilisation. */
  utilisation: Number(process.env.CAP_PLAN_UTILISATION ?? 0.6),
  /** Memory a Redis shard may hold (dataset), leaving room for fork/copy-on-write and fragmentation. */
  shardMemoryBytes: Number(process.env.CAP_PLAN_SHARD_MEMORY ?? 8 * 2 ** 30),
  /** Share of refreshes that happen during the peak hours the rates describe (storage: the rates held all day = upper bound). */
  storageDayFactor: 1,
};

interface Plan {
  rps: number;
  active: number;
  rates: Record<string, number>;
  l1Hit: number;
  instances: number;
  appCores: number;
  redisOps: number;
  redisCores: number;
  redisShardsOps: number;
  redisMemory: number;
  redisShardsMemory: number;
  redisShards: number;
  pgStatements: number;
  pgWriteStatements: number;
  pgRowWrites: number;
  pgCores: number;
  storage: { sessions: number; rotated: number; audit: number; rows: Record<string, number> };
  bottleneck: string;
}

/** Days a rotated refresh hash is kept: max(refreshTtl, accessTtl), the cleanup's cut-off. */
function rotatedKeepDays(): number {
  return Math.max(ASSUME.refreshTtlDays, ASSUME.accessTtl / 86_400);
}

function refreshAppCpu(r: CapacityResult): number {
  const load = r.loads.find((l) => l.label === 'POST /auth/refresh' && l.instances === 1);
  return load && load.perInstanceCpuUs[0] > 0 ? load.perInstanceCpuUs[0] : r.ops.refresh.appCpu;
}

function rowWrites(op: OpCost): number {
  return sum(Object.values(op.rows).map((r) => r.ins + r.upd + r.del));
}

function plan(r: CapacityResult, rps: number): Plan {
  const { ops } = r;
  const active = Math.min(ASSUME.sessions, rps * ASSUME.requestInterval);
  const refresh = active / ASSUME.accessTtl;
  const loginAvg = ASSUME.sessions / (ASSUME.sessionLifeDays * 86_400);
  const login = loginAvg * ASSUME.loginPeak;
  const logout = login * ASSUME.logoutShare;
  // A validation misses Redis when the session's copy expired (once per Redis TTL per active session).
  const pgPath = Math.min(rps, active / ASSUME.redisTtl);
  // A refresh's server CPU under sustained load (48 connections) when measured: a phase of 16 at a time costs more per refresh.
  const refreshCpu = refreshAppCpu(r);
  // Instances are computed with the L1 hit rate their number gives (random load balancing).
  let instances = 1;
  let l1Hit = 0;
  let appCores = 0;
  for (let k = 0; k < 8; k++) {
    l1Hit = 1 - Math.exp(-ASSUME.l1Ttl / (ASSUME.requestInterval * instances));
    const l1 = (rps - pgPath) * l1Hit;
    const fromRedis = rps - pgPath - l1;
    appCores = (l1 * ops.validateL1.appCpu + fromRedis * ops.validateRedis.appCpu + pgPath * ops.validatePg.appCpu + refresh * refreshCpu + login * ops.login.appCpu + logout * ops.logout.appCpu) / 1e6;
    instances = Math.max(2, Math.ceil(appCores / ASSUME.utilisation));
  }
  const l1 = (rps - pgPath) * l1Hit;
  const fromRedis = rps - pgPath - l1;
  const rates = { validateL1: l1, validateRedis: fromRedis, validatePg: pgPath, refresh, login, logout };
  const each = (f: (op: OpCost) => number) => sum(Object.entries(rates).map(([k, rate]) => rate * f(ops[k])));
  const idleRedis = r.idle.redisPerS * instances;
  const redisOps = each((op) => op.redis) + idleRedis;
  const redisCmdCpu = cmdCpu(r);
  // Redis CPU measured per operation (scripts and pipelines included), plus the idle instances' commands.
  const redisCores = (each((op) => op.redisCpu) + idleRedis * redisCmdCpu) / 1e6;
  const perShardBudget = (ASSUME.utilisation * 1e6) / redisCmdCpu;
  const redisShardsOps = Math.ceil(Math.max(redisOps / perShardBudget, redisCores / ASSUME.utilisation));
  // Cached: every session used within the Redis TTL (active ones), key + value + its share of the user's set.
  const perSession = r.redisBytesPerSession.memoryUsage + r.redisBytesPerSession.userSetPerSession;
  const redisMemory = Math.min(ASSUME.sessions, active) * perSession;
  const redisShardsMemory = Math.ceil(redisMemory / ASSUME.shardMemoryBytes);
  const redisShards = Math.max(3, redisShardsOps, redisShardsMemory);
  const touchStatements = instances; // one batch per instance per second while anything is pending
  const touchRows = Math.min(active / ASSUME.activityInterval, rps);
  const pgStatements = each((op) => op.sql) + touchStatements + r.idle.sqlPerS * instances;
  const pgWriteStatements = each((op) => op.sqlWrites) + touchStatements;
  const pgRowWrites = each(rowWrites) + touchRows;
  const pgCores = each((op) => op.pgCpu) / 1e6;
  // Storage at steady state, the rates held all day (an upper bound): live + ended within retention.
  const bytes = (table: string) => r.storage.find((s) => s.table === table)?.perRow ?? NaN;
  const sessionRows = ASSUME.sessions + loginAvg * 86_400 * ASSUME.retentionDays;
  // Every rotation leaves a row, kept until the cleanup passes max(refreshTtl, accessTtl) after it
  // (a session deleted earlier takes its rows along: an upper bound).
  const rotatedRows = refresh * ASSUME.storageDayFactor * 86_400 * rotatedKeepDays();
  const auditPerDay = 86_400 * (loginAvg * (ops.login.rows.session_audit?.ins ?? 0) + loginAvg * ASSUME.logoutShare * (ops.logout.rows.session_audit?.ins ?? 0) + refresh * (ops.refresh.rows.session_audit?.ins ?? 0));
  const auditRows = auditPerDay * ASSUME.retentionDays;
  const storage = {
    sessions: sessionRows * bytes('sessions'),
    rotated: rotatedRows * bytes('session_rotated_refresh_tokens'),
    audit: auditRows * bytes('session_audit'),
    rows: { sessions: sessionRows, rotated: rotatedRows, audit: auditRows },
  };
  const pgShare = pgCores / ASSUME.utilisation;
  const candidates: Array<[string, number]> = [
    ['app CPU', appCores],
    ['Redis (one shard per core: the busiest resource per shard is its single thread)', redisCores / redisShards],
    ['PostgreSQL primary CPU', pgShare],
  ];
  // Storage is named when what refreshes and logins leave outweighs the sessions themselves 3×.
  const [heaviestName, heaviest] = storage.rotated >= storage.audit ? ['rotated refresh hashes', storage.rotated] : ['audit entries', storage.audit];
  const bottleneck = heaviest > storage.sessions * 3 ? `storage of ${heaviestName}, and ` : '';
  const cpuLeader = candidates.sort((a, b) => b[1] - a[1])[0][0];
  return {
    rps,
    active,
    rates,
    l1Hit,
    instances,
    appCores,
    redisOps,
    redisCores,
    redisShardsOps,
    redisMemory,
    redisShardsMemory,
    redisShards,
    pgStatements,
    pgWriteStatements,
    pgRowWrites,
    pgCores,
    storage,
    bottleneck: `${bottleneck}${cpuLeader}`,
  };
}

/**
 * Redis CPU per command the app sends (one round trip), µs, over the validation-from-Redis phase:
 * not per `calls` of INFO commandstats, which also counts the commands a script runs inside.
 */
function cmdCpu(r: CapacityResult): number {
  const op = r.ops.validateRedis;
  return op.redisCpu / Math.max(0.01, op.redis);
}

const gb = (b: number) => `${dec(b / 1e9, b < 1e10 ? 2 : 0)} GB`;

export function capacityMarkdown(r: CapacityResult, auditType = 'login'): string {
  const o = r.ops;
  const rows: Array<[string, OpCost]> = [
    ['validation, in-process cache (L1), each request from its own address', o.validateL1],
    ['validation, L1, every request from one address (rate-limit counts batched)', o.validateL1OneIp],
    ['validation, from Redis (L1 off)', o.validateRedis],
    ['validation, from PostgreSQL (Redis copy gone)', o.validatePg],
    ['refresh (rotation)', o.refresh],
    ['login (argon2 verify, new session)', o.login],
    ['logout (revocation of one session)', o.logout],
    ['for reference: open `GET /ping`', o.open],
  ];
  const topOf = (m: Record<string, number>, n: number, k = 4) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, v]) => `${name} ${dec(v / n)}`)
      .join(', ');
  const plans = [plan(r, 10_000), plan(r, 100_000)];
  const single = (label: string) => r.loads.find((l) => l.label === label && l.instances === 1);
  const multi = (label: string) => r.loads.find((l) => l.label === label && l.instances > 1);
  const md: string[] = [];
  md.push(
    '## Capacity: 10,000 and 100,000 authenticated requests per second (issue 15)',
    '',
    `Written by \`npm run bench:capacity\` (bench/capacity.ts) on ${r.machine.startedAt} in ${int(r.machine.seconds)} s; ` +
      `${r.machine.cores} cores (${r.machine.model}), load average ${r.machine.loadStart.map((x) => dec(x)).join(' / ')} at the start and ${r.machine.loadEnd.map((x) => dec(x)).join(' / ')} at the end. ` +
      'Every figure below comes from that run or from an assumption stated here; raw figures in `bench/capacity.json`.' +
      (process.env.CAP_NOTE ? ` ${process.env.CAP_NOTE}` : ''),
    '',
    '### Measured cost per operation',
    '',
    'Express, the lean configuration (binding off, bearer, `LOG_LEVEL=warn`, rate limits counted but raised), one instance, a PostgreSQL database and a redis-server of the run\'s own. ' +
      `Each operation ${CONCURRENCY} at a time; counts are deltas of the app process's own statements (\`pg\`) and commands (\`ioredis\`), counted in that process, ` +
      `minus what an idle instance does over as long (${dec(r.idle.sqlPerS)} statements/s, ${dec(r.idle.redisPerS)} Redis commands/s: ${Object.keys(r.idle.redis).join(', ') || 'none'}). ` +
      '"Redis commands sent": round trips the app made (`sendCommand`; commands in a pipeline or MULTI may be written past it); "Redis calls executed": INFO commandstats of the private server over the phase, all its clients (the subscribers too), ' +
      'which also counts every command a Lua script runs inside. ' +
      'Server, PostgreSQL and Redis CPU are process CPU times (/proc) over the phase divided by the operations: on a busy shared machine and at modest concurrency they are upper bounds of what the same code costs under steady load.',
    '',
    '| operation | n | server CPU µs | PostgreSQL CPU µs | Redis CPU µs | SQL statements | of which write | Redis commands sent | Redis calls executed | rows written (table: ins/upd/del) | main statements and commands |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  );
  for (const [label, op] of rows) {
    const written = Object.entries(op.rows)
      .filter(([, v]) => v.ins + v.upd + v.del >= 0.01)
      .map(([t, v]) => `${t}: ${dec(v.ins)}/${dec(v.upd)}/${dec(v.del)}`)
      .join('; ');
    md.push(
      `| ${label} | ${int(op.n)} | ${int(op.appCpu)} | ${int(op.pgCpu)} | ${int(op.redisCpu)} | ${dec(op.sql)} | ${dec(op.sqlWrites)} | ${dec(op.redis)} | ${dec(op.redisServer)} | ${written || '—'} | ` +
        `${[topOf(op.redisByName, op.n), topOf(op.sqlByText, op.n, 3).replace(/\|/g, '\\|')].filter(Boolean).join('; ')}${op.failures ? `; **${op.failures} failed**` : ''} |`,
    );
  }
  const rb = r.redisBytesPerSession;
  md.push(
    '',
    `Redis per cached session: \`MEMORY USAGE\` of the session key ${int(rb.memoryUsage)} bytes (mean of ${int(Math.min(200, rb.sessions))} keys, default prefix \`nsm:\`) plus ${int(rb.userSetPerSession)} bytes, its share of its user's index set ` +
      `(here ${int(rb.sessions)} sessions over 20 users); \`used_memory\` grew ${int(rb.usedMemoryDelta)} bytes per session filled (allocator and dictionary overhead included). ` +
      `The plan uses ${int(rb.memoryUsage + rb.userSetPerSession)} bytes per session.`,
    '',
    'PostgreSQL per row (slope of `pg_total_relation_size`, table + TOAST + indexes, between the two sizes; rows cloned from ones the app wrote; freshly inserted and vacuumed, so no dead versions: a table that rotations update in place carries more):',
    '',
    '| table | rows | size | rows | size | bytes per row |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.storage.map((s) => `| \`${s.table}\`${s.table === 'session_audit' ? ` (\`${auditType}\` entries)` : ''} | ${int(s.rows[0])} | ${int(s.bytes[0] / 1e6)} MB | ${int(s.rows[1])} | ${int(s.bytes[1] / 1e6)} MB | ${int(s.perRow)} |`),
    '',
    '### Four instances on this machine',
    '',
    `${INSTANCES} app processes (the same configuration) on the one PostgreSQL and Redis, each driven by its own autocannon process with ${Math.round(LOAD_CONNECTIONS / INSTANCES)} connections for ${LOAD_SECONDS} s, ` +
      `against one instance alone with ${LOAD_CONNECTIONS} connections, in the same run. Per instance, not in total: the machine has ${r.machine.cores} cores, ` +
      'so four instances share them with four load generators, Redis and PostgreSQL, and the total cannot grow; what must hold is the CPU per request.',
    '',
    '| load | instances | req/s per instance | server CPU µs/req per instance | total req/s | Redis calls executed/req | Redis CPU µs/req | PostgreSQL CPU µs/req | SQL/req |',
    '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.loads.map(
      (l) =>
        `| ${l.label} | ${l.instances} | ${l.perInstanceRps.map(int).join(' / ')} | ${l.perInstanceCpuUs.map(int).join(' / ')} | ${int(l.totalRps)} | ${dec(l.redisCmdsPerReq)} | ${dec(l.redisCpuPerReq, 1)} | ${dec(l.pgCpuPerReq, 1)} | ${dec(l.sqlPerReq)} |`,
    ),
    '',
  );
  for (const label of ['guarded GET /ping/secure (L1 warm)', 'POST /auth/refresh']) {
    const a = single(label);
    const b = multi(label);
    if (!a || !b) continue;
    const cpu1 = a.perInstanceCpuUs[0];
    const cpu4 = sum(b.perInstanceCpuUs) / b.perInstanceCpuUs.length;
    md.push(
      `- ${label}: server CPU per request ${int(cpu4)} µs per instance with ${b.instances} against ${int(cpu1)} µs alone (×${dec(cpu4 / cpu1)}); ` +
        `per instance ${int(sum(b.perInstanceRps) / b.instances)} req/s against ${int(a.perInstanceRps[0])} alone (×${dec(sum(b.perInstanceRps) / b.instances / a.perInstanceRps[0])}: ` +
        `${b.instances} instances on ${r.machine.cores} cores); Redis calls executed per request ${dec(b.redisCmdsPerReq)} against ${dec(a.redisCmdsPerReq)}.`,
    );
  }
  const v1 = single('guarded GET /ping/secure (L1 warm)');
  const v4 = multi('guarded GET /ping/secure (L1 warm)');
  const f1 = single('POST /auth/refresh');
  const f4 = multi('POST /auth/refresh');
  if (v1 && v4 && f1 && f4) {
    const mean = (xs: number[]) => sum(xs) / xs.length;
    md.push(
      '',
      `What the four-instance run checks: what each request asks of the shared servers held — Redis calls executed (INFO commandstats, all instances) per guarded request ${dec(v4.redisCmdsPerReq)} against ${dec(v1.redisCmdsPerReq)}, ` +
        `per refresh ${dec(f4.redisCmdsPerReq)} against ${dec(f1.redisCmdsPerReq)}; SQL statements per refresh ${dec(f4.sqlPerReq)} against ${dec(f1.sqlPerReq)} — so the Redis and PostgreSQL lines of the plan add up per instance. ` +
        `What it cannot check here is the app tier's linearity: ${INSTANCES} instances and ${INSTANCES} load generators on ${r.machine.cores} cores cost ×${dec(mean(v4.perInstanceCpuUs) / v1.perInstanceCpuUs[0])} (guarded) and ×${dec(mean(f4.perInstanceCpuUs) / f1.perInstanceCpuUs[0])} (refresh) server CPU per request ` +
        '(time slices, cold caches, and fewer requests per event-loop turn at a quarter of the load each); the plan takes the single-instance costs and one instance per core, which needs a machine with a core per instance to confirm.',
    );
  }
  md.push(
    '',
    '### Assumptions',
    '',
    `- ${int(ASSUME.sessions)} sessions; an active session sends an authenticated request every ${ASSUME.requestInterval} s on average, so R req/s means R × ${ASSUME.requestInterval} active sessions.`,
    `- An active session refreshes once per access token lifetime (${ASSUME.accessTtl} s, the default): refreshes/s = active / ${ASSUME.accessTtl}.`,
    `- A session lives ${ASSUME.sessionLifeDays} days on average: logins/day = sessions / ${ASSUME.sessionLifeDays}; the peak login rate is ${ASSUME.loginPeak}× the day's average; ${dec(ASSUME.logoutShare * 100, 0)}% of sessions end by logout.`,
    `- Cache: a session's Redis copy lives ${ASSUME.redisTtl} s (the default \`cacheTtl\`), so each active session is read from PostgreSQL once per ${ASSUME.redisTtl} s; ` +
      `the in-process copy lives ${ASSUME.l1Ttl} s and the load balancer spreads requests at random, so the L1 hit rate is 1 − e^(−${ASSUME.l1Ttl} / (${ASSUME.requestInterval} s × instances)) (sticky routing by session would raise it to 1 − e^(−${ASSUME.l1Ttl}/${ASSUME.requestInterval}) = ${dec(100 * (1 - Math.exp(-ASSUME.l1Ttl / ASSUME.requestInterval)), 0)}%). Every other validation reads Redis.`,
    '- Every request comes from a client address the instance has not counted in the last 100 ms, so the rate limiter sends one Redis script per request (the "own address" row); one address per instance would batch them away (the "one address" row).',
    `- Activity: the write-behind writes a session's last activity at most once per ${ASSUME.activityInterval} s (the default interval), one UPDATE per instance per second: rows/s = active / ${ASSUME.activityInterval}. Not measured in this run (its sessions were younger than ${ASSUME.activityInterval} s): derived from the code's interval.`,
    `- Server CPU per refresh: ${int(refreshAppCpu(r))} µs, the single-instance refresh load below (sustained, ${LOAD_CONNECTIONS} connections), not the ${int(r.ops.refresh.appCpu)} µs of the ${CONCURRENCY}-at-a-time phase; every other operation from its phase.`,
    `- CPU is planned at ${dec(ASSUME.utilisation * 100, 0)}% utilisation: app instances = ⌈app cores / ${ASSUME.utilisation}⌉ (one Node process per core), at least 2.`,
    `- Redis: a shard is one single-threaded redis-server; its budget is ${dec(ASSUME.utilisation * 100, 0)}% of one core divided by the CPU per command measured here ` +
      `(${dec(cmdCpu(r), 1)} µs: the private redis-server's CPU during the validation-from-Redis phase over the commands the app sent, each one round trip over loopback, scripts included; at the low rate of that phase and on a busy machine, an upper bound), ` +
      `i.e. ${int((ASSUME.utilisation * 1e6) / cmdCpu(r))} commands/s per shard; at most ${gb(ASSUME.shardMemoryBytes)} of data per shard; at least 3 masters (Redis Cluster), each with a replica (so twice the servers).`,
    `- PostgreSQL: one primary takes every write; its CPU is the measured backend CPU per operation times the rates, at ${dec(ASSUME.utilisation * 100, 0)}% utilisation. ` +
      `Storage keeps the live sessions plus those ended within the retention (${ASSUME.retentionDays} days), every rotated refresh hash for ${dec(rotatedKeepDays(), 0)} days after its rotation (the cleanup deletes older ones: max(refreshTtl, accessTtl), the defaults), and ${ASSUME.retentionDays} days of audit; ` +
      'the peak rates are taken as held all day, so storage is an upper bound.',
    '',
    '### The plan',
    '',
    '| | 10,000 req/s | 100,000 req/s |',
    '| --- | ---: | ---: |',
  );
  const row = (label: string, f: (p: Plan) => string) => md.push(`| ${label} | ${plans.map(f).join(' | ')} |`);
  row('active sessions', (p) => int(p.active));
  row('validations/s: L1 / Redis / PostgreSQL', (p) => `${int(p.rates.validateL1)} / ${int(p.rates.validateRedis)} / ${int(p.rates.validatePg)}`);
  row('L1 hit rate (random balancing, at the instance count below)', (p) => `${dec(p.l1Hit * 100, 1)}%`);
  row('refreshes/s; logins/s; logouts/s', (p) => `${int(p.rates.refresh)}; ${dec(p.rates.login, 1)}; ${dec(p.rates.logout, 1)}`);
  row('**app cores (CPU s/s)**', (p) => dec(p.appCores, 1));
  row('**app instances** (1 core each)', (p) => int(p.instances));
  row('Redis commands/s (incl. idle per instance)', (p) => int(p.redisOps));
  row('Redis CPU (cores, all shards: Σ rate × Redis CPU per operation)', (p) => dec(p.redisCores, 2));
  row('Redis memory (cached sessions)', (p) => gb(p.redisMemory));
  row('Redis shards by ops / by memory', (p) => `${int(p.redisShardsOps)} / ${int(p.redisShardsMemory)}`);
  row('**Redis Cluster masters** (min 3; + 1 replica each)', (p) => int(p.redisShards));
  row('PostgreSQL statements/s (all)', (p) => int(p.pgStatements));
  row('**PostgreSQL write statements/s**', (p) => int(p.pgWriteStatements));
  row('PostgreSQL rows written/s (ins+upd+del, incl. activity)', (p) => int(p.pgRowWrites));
  row('PostgreSQL primary CPU (cores)', (p) => dec(p.pgCores, 2));
  row('stored session rows (live + retained)', (p) => int(p.storage.rows.sessions));
  row('**storage: sessions**', (p) => gb(p.storage.sessions));
  row('rotated refresh hashes (rows)', (p) => int(p.storage.rows.rotated));
  row('**storage: rotated refresh hashes**', (p) => gb(p.storage.rotated));
  row(`**storage: audit** (${ASSUME.retentionDays} days)`, (p) => gb(p.storage.audit));
  row('bottleneck', (p) => p.bottleneck);
  md.push('');
  for (const p of plans) {
    md.push(
      `- **${int(p.rps)} req/s**: ${int(p.instances)} app instances (${dec(p.appCores, 1)} cores of work); ` +
        `${int(p.redisOps)} Redis commands/s (${dec(p.redisCores, 2)} cores) and ${gb(p.redisMemory)} cached: ${int(p.redisShards)} masters, decided by ${p.redisShardsOps >= p.redisShardsMemory && p.redisShardsOps >= 3 ? 'operations' : p.redisShardsMemory > 3 ? 'memory' : 'the Cluster minimum'}; ` +
        `PostgreSQL ${int(p.pgWriteStatements)} write statements/s (${int(p.pgRowWrites)} rows/s), ${dec(p.pgCores, 2)} cores of backend CPU on the primary; ` +
        `storage ${gb(p.storage.sessions + p.storage.rotated + p.storage.audit)} (sessions ${gb(p.storage.sessions)}, rotated hashes ${gb(p.storage.rotated)}, audit ${gb(p.storage.audit)}). Bottleneck: ${p.bottleneck}.`,
    );
  }
  md.push(
    '',
    'Reading it: the app tier scales out linearly as long as CPU per request holds per instance (the four-instance rows); Redis commands per request are dominated by the rate limiter\'s script and the L1 misses that random balancing causes, both per request, so Redis shards grow with req/s, not with sessions; ' +
      'PostgreSQL sees the refreshes (one statement each), the logins, the Redis misses and one activity batch per instance per second, which grow with active sessions, not with req/s as such. ' +
      `Its storage is dominated not by the sessions but by what each refresh leaves: an audit entry (kept for the retention, ${ASSUME.retentionDays} days) and a rotated hash (kept ${dec(rotatedKeepDays(), 0)} days, then pruned by the cleanup). ` +
      'Invalidations are published once per refresh and revocation; on a Cluster the app uses sharded pub/sub (SPUBLISH), so they do not reach every shard. ' +
      'The figures come from a 2-core machine shared with other work: CPU per operation here is higher than on a quiet server core, so the plan errs on the side of more.',
    '',
  );
  return md.join('\n');
}

/** CAP_FROM_JSON=1: write bench/capacity.md again from bench/capacity.json (the plan's assumptions may have changed), without measuring. */
function fromJson(): void {
  const saved = JSON.parse(readFileSync(join(__dirname, 'capacity.json'), 'utf8')) as CapacityResult & { auditType?: string };
  writeFileSync(join(__dirname, 'capacity.md'), capacityMarkdown(saved, saved.auditType));
  out('capacity: wrote bench/capacity.md from bench/capacity.json');
}

if (require.main === module && process.env.CAP_FROM_JSON) {
  fromJson();
} else if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      out(`capacity: FAILED: ${error.stack ?? error.message}`);
      process.exit(1);
    },
  );
}
