/**
 * `npm run bench`: HTTP throughput and latency of session validation (issue 5), against real
 * PostgreSQL and Redis, on both adapters, and against the classic peer (express-session +
 * connect-redis in a minimal NestJS app). Writes BENCHMARKS.md, bench/results.svg and
 * bench/results.json, and prints the ratios with their targets.
 *
 *   npm run bench                                   # ~13-15 minutes on 2 cores
 *   BENCH_SECONDS=4 BENCH_ROUNDS=2 npm run bench    # shorter (~9 minutes)
 *
 * Build: the script runs `npx nest build -b tsc` (tsc, as `npm run build` does; `npm start`
 * compiles with SWC) once at the start when dist/main.js is missing or older than the newest file
 * under src/ (BENCH_BUILD=auto, the default); BENCH_BUILD=always builds every time,
 * BENCH_BUILD=never never does (and only warns when the build is stale).
 *
 * Environment: BENCH_SECONDS (5) per measured run, BENCH_ROUNDS (3), BENCH_WARMUP (3) seconds of
 * warm-up per scenario, BENCH_CONNECTIONS (50), BENCH_ONLY (comma-separated scenario ids, for a
 * partial run; the report is then partial too), BENCH_SCALE=1 (also run bench/scale.ts's
 * `runScaleBench()`, minutes), BENCH_CPU_PROF=<server name> (start that server with
 * `node --cpu-prof`; the profile lands in bench/profiles/), BENCH_QUIET_CORES (0.3),
 * BENCH_QUIET_BUDGET (45 s) and BENCH_DISTURBED_CORES (0.35) (see waitForQuiet and Measurement),
 * TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test: the server on which a fresh database
 * is created and dropped), BENCH_REDIS_URL (redis://127.0.0.1:6379/14).
 *
 * Scenarios (ids for BENCH_ONLY), for both adapters, first the headline rows, the default
 * configuration (server `<adapter>-default`: SESSION_BINDING=ua with a browser User-Agent on every
 * request, the session presented by its `__Host-access` cookie, metrics, LOG_LEVEL=info with the
 * log lines going to /dev/null): `<adapter>-default-open`, `<adapter>-default-secure`,
 * `<adapter>-default-refresh` (the refresh token in the body, from the same browser User-Agent;
 * the answer sets the cookies). Then the lean configuration (binding off, bearer header,
 * LOG_LEVEL=warn): `<adapter>-open` (GET /ping),
 * `<adapter>-secure` (GET /ping/secure, warm L1), `<adapter>-secure-nol1`
 * (SESSION_LOCAL_CACHE_TTL=0), `<adapter>-secure-noredis` (REDIS_URL at a closed port),
 * `<adapter>-refresh` (POST /auth/refresh with rotation); and the peer, express-session +
 * connect-redis (bench/peer/express-session-app.ts): `peer-open`, `peer-secure` (a minimal NestJS
 * app) and `peer-app-secure` (the same peer behind this app's own Express stack), `peer-app-open`.
 * Issue 15: `express-default-login` and `better-auth-login` (POST, 1 connection; one password
 * check of each is timed in-process after the servers stop), `better-auth-extend` (updateAge 0:
 * every check extends the session), `<adapter>-bare-open` (bench/peer/bare-nest-app.ts) and
 * `<adapter>-open-no-<piece>` (the lean app with `BENCH_OFF=<piece>`, src/http/bench-off.ts;
 * BENCH_PIECE_ROUNDS (2) rounds only). The full run takes ~13–15 minutes on 2 cores.
 *
 * Method: every server is started once, each as its own process on a free port (the app from
 * dist/main.js with NODE_ENV=production, a fresh database, its own Redis key prefix, rate limits
 * raised out of the way; SESSION_BINDING=off except for the default configuration); they stay up for the whole run but only one is
 * under load at a time. The load generator (autocannon, bench/load-driver.ts) runs in a process
 * of its own. Each scenario gets a warm-up, then the scenarios are measured round by round,
 * forward and backward in turn (ABBA) in an order that keeps the scenarios a target compares next
 * to each other; the target ratios are medians of per-round ratios. On a shared machine each
 * measured run first waits (within a budget) for other processes to calm down, and a run during
 * which they still kept the cores busy is marked disturbed and left out of the medians.
 */
import { ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { LoadJob, LoadResult, PoolEntry } from './load-driver';
import { freePort, type JsonAnswer, requestJson } from './local-http';
import { barChartSvg, BarRow } from './svg-chart';

const ROOT = resolve(__dirname, '..');
const APP = join(ROOT, 'dist', 'main.js');
const num = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const SECONDS = num('BENCH_SECONDS', 5);
const ROUNDS = Math.round(num('BENCH_ROUNDS', 3));
const WARMUP = num('BENCH_WARMUP', 3);
const CONNECTIONS = Math.round(num('BENCH_CONNECTIONS', 50));
const BUILD = (process.env.BENCH_BUILD ?? 'auto').toLowerCase();
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const RUN_SCALE = ['1', 'true', 'yes'].includes(String(process.env.BENCH_SCALE ?? '').toLowerCase());
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** Cores other processes may keep busy before a measured run waits for them (see waitForQuiet). */
const QUIET_CORES = Number(process.env.BENCH_QUIET_CORES ?? 0.3);
/** Seconds the whole run may spend waiting for a quiet machine, and one run at most. */
const QUIET_BUDGET = Number(process.env.BENCH_QUIET_BUDGET ?? 45);
const QUIET_MAX_WAIT = 15;
/** A measured run during which other processes kept more cores than this busy counts as disturbed. */
const DISTURBED_CORES = Number(process.env.BENCH_DISTURBED_CORES ?? 0.35);
const SERVER_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/14';

const TAG = `bench${randomBytes(4).toString('hex')}`;
const DATABASE = `bench_${TAG.slice(5)}`;
const DATABASE_URL = (() => {
  const url = new URL(SERVER_DATABASE_URL);
  url.pathname = `/${DATABASE}`;
  return url.toString();
})();
const SECRET = `bench-secret-${randomBytes(24).toString('hex')}`;
const PASSWORD = 'bench password 0123';
const REFRESH_SPARE = 10;
/** The user bench/peer/better-auth-app.ts signs up (its PEER_EMAIL; the password is PASSWORD). */
const BETTER_AUTH_EMAIL = 'peer-user@bench.example.com';

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (value: number, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)} ms` : '-');
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ------------------------------------------------------------------ servers

type Adapter = 'express' | 'fastify';

interface ServerSpec {
  name: string;
  kind: 'app' | 'peer' | 'better-auth' | 'bare';
  adapter: Adapter;
  /** Variables on top of the common ones. */
  env: Record<string, string>;
  describe: string;
  /** The User-Agent of every request to it (login, refresh pool, load): a browser's for the default configuration, which binds sessions to it. */
  userAgent?: string;
  /** Send the app's log lines (LOG_LEVEL=info: one per request) to /dev/null, as a production app ships them elsewhere. */
  logsToDevNull?: boolean;
  /** Present the session with its access cookie, as a browser does, instead of the bearer header. */
  cookies?: boolean;
}

/** A browser's User-Agent: the default configuration binds each session to its client's (SESSION_BINDING=ua). */
const BROWSER_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

interface Server extends ServerSpec {
  port: number;
  prefix: string;
  child: ChildProcess;
  output: string;
  exited: Promise<void>;
  /** The bearer token (app) or cookie (peer) of the session the guarded scenarios use. */
  auth?: { header: string; value: string; userId: string; accessToken?: string; cookieSid?: string };
  refreshPool: PoolEntry[];
  refreshEmail?: string;
  /** The user the login scenario signs in, again and again (its own, so the other sessions stay apart). */
  loginEmail?: string;
}


async function startServer(spec: ServerSpec): Promise<Server> {
  const port = await freePort();
  const prefix = `${TAG}-${spec.name}:`;
  const nodeArgs: string[] = [];
  if (CPU_PROF === spec.name) {
    const dir = join(ROOT, 'bench', 'profiles');
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${spec.name}-${TAG}.cpuprofile`);
  }
  const peerFile = { peer: 'express-session-app.ts', 'better-auth': 'better-auth-app.ts', bare: 'bare-nest-app.ts' } as const;
  const script = spec.kind === 'app' ? [APP] : ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'peer', peerFile[spec.kind])];
  const databaseUrl = new URL(DATABASE_URL);
  databaseUrl.searchParams.set('application_name', `${TAG}-${spec.name}`);
  const env: Record<string, string | undefined> =
    spec.kind === 'app'
      ? {
          ...process.env,
          NODE_ENV: 'production',
          PORT: String(port),
          HTTP_ADAPTER: spec.adapter,
          DATABASE_URL: databaseUrl.toString(),
          REDIS_URL,
          REDIS_KEY_PREFIX: prefix,
          SESSION_SECRET: SECRET,
          SESSION_BINDING: 'off',
          THROTTLE_LIMIT: '1000000000',
          THROTTLE_LOGIN_LIMIT: '1000000000',
          // Enough sessions per user for the refresh pool, and tokens that outlive a long run.
          SESSION_MAX_PER_USER: '1000000',
          SESSION_ACCESS_TTL: '86400',
          SESSION_CLEANUP_INTERVAL: '0',
          // No request lines: the peer logs nothing either (and the lines would flow through this
          // process's pipe). What request logging costs is measured apart, in BENCHMARKS.md.
          LOG_LEVEL: 'warn',
          ...spec.env,
        }
      : { ...process.env, NODE_ENV: 'production', PORT: String(port), BARE_ADAPTER: spec.adapter, DATABASE_URL: databaseUrl.toString(), REDIS_URL, PEER_PREFIX: prefix, SESSION_SECRET: SECRET, ...spec.env };
  const stdout = spec.logsToDevNull ? openSync('/dev/null', 'w') : 'pipe';
  const child = spawn(process.execPath, [...nodeArgs, ...script], { cwd: ROOT, env, stdio: ['ignore', stdout, 'pipe'] });
  if (typeof stdout === 'number') closeSync(stdout);
  const server: Server = {
    ...spec,
    port,
    prefix,
    child,
    output: '',
    exited: new Promise((done) => child.once('exit', () => done())),
    refreshPool: [],
  };
  const keep = (chunk: Buffer) => {
    server.output = (server.output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr!.on('data', keep);
  return server;
}

const alive = (server: Server) => server.child.exitCode === null && server.child.signalCode === null;

async function waitUp(server: Server): Promise<void> {
  const by = Date.now() + 45_000;
  while (Date.now() < by && alive(server)) {
    const answer = await request(server, 'GET', '/ping').catch(() => null);
    if (answer?.status === 200) return;
    await sleep(150);
  }
  throw new Error(`server ${server.name} did not come up:\n${server.output.slice(-3000)}`);
}

async function stopServer(server: Server): Promise<void> {
  if (!alive(server)) return;
  server.child.kill('SIGTERM');
  const stopped = await Promise.race([server.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!stopped) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

type Answer = JsonAnswer;

function request(server: Server, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  return requestJson(server.port, method, path, { ...options, headers: { 'user-agent': server.userAgent ?? 'bench/1.0', ...options.headers } });
}

async function appLogin(server: Server, email: string): Promise<{ accessToken: string; refreshToken: string; sessionId: string; userId: string; accessCookie: string | null }> {
  const res = await request(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  if (res.status !== 200) throw new Error(`${server.name}: login answered ${res.status} ${JSON.stringify(res.body)}`);
  const setCookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const accessCookie = setCookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('__Host-access=')) ?? null;
  return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken, sessionId: res.body.sessionId, userId: res.body.user.id, accessCookie };
}

async function appRegister(server: Server, email: string): Promise<void> {
  const res = await request(server, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
  if (res.status !== 201) throw new Error(`${server.name}: register answered ${res.status} ${JSON.stringify(res.body)}`);
}

/** Logs `count` more sessions of the server's refresh user in, a few at a time. */
async function topUpRefreshPool(server: Server, count: number): Promise<void> {
  let left = count;
  const worker = async () => {
    while (left > 0) {
      left--;
      const session = await appLogin(server, server.refreshEmail!);
      server.refreshPool.push({ sessionId: session.sessionId, refreshToken: session.refreshToken });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** Sets up the session the guarded scenarios use (and, where needed, the refresh pool). */
async function prepareServer(server: Server, refreshSessions: number, login: boolean): Promise<void> {
  if (server.kind === 'bare') return;
  if (server.kind === 'better-auth') {
    server.loginEmail = BETTER_AUTH_EMAIL;
    // The fixed user bench/peer/better-auth-app.ts signs up at start; every cookie it sets (the
    // session token, and with the cookie cache the signed session data) goes with each request.
    const res = await request(server, 'POST', '/api/auth/sign-in/email', { body: { email: BETTER_AUTH_EMAIL, password: PASSWORD } });
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
    if (res.status !== 200 || cookies.length === 0) throw new Error(`${server.name}: sign-in answered ${res.status} ${JSON.stringify(res.body)}`);
    server.auth = { header: 'cookie', value: cookies.join('; '), userId: res.body.user.id };
    return;
  }
  if (server.kind === 'peer') {
    const res = await request(server, 'POST', '/login');
    const cookie = String(res.headers['set-cookie']?.[0] ?? '').split(';')[0];
    if (res.status !== 200 || !cookie) throw new Error(`peer login answered ${res.status} without a cookie`);
    const signed = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
    const sid = signed.startsWith('s:') ? signed.slice(2, signed.lastIndexOf('.')) : signed;
    server.auth = { header: 'cookie', value: cookie, userId: 'peer-user-0001', cookieSid: sid };
    return;
  }
  const email = `${server.name}-${TAG}@bench.example.com`;
  await appRegister(server, email);
  const session = await appLogin(server, email);
  if (server.cookies) {
    if (!session.accessCookie) throw new Error(`${server.name}: login set no __Host-access cookie`);
    server.auth = { header: 'cookie', value: session.accessCookie, userId: session.userId, accessToken: session.accessToken };
  } else {
    server.auth = { header: 'authorization', value: `Bearer ${session.accessToken}`, userId: session.userId, accessToken: session.accessToken };
  }
  if (login) {
    server.loginEmail = `${server.name}-login-${TAG}@bench.example.com`;
    await appRegister(server, server.loginEmail);
  }
  if (refreshSessions > 0) {
    server.refreshEmail = `${server.name}-refresh-${TAG}@bench.example.com`;
    await appRegister(server, server.refreshEmail);
    await topUpRefreshPool(server, refreshSessions);
  }
}

// ------------------------------------------------------------------ scenarios

type Kind = 'open' | 'secure' | 'refresh' | 'login';

interface Scenario {
  id: string;
  label: string;
  group: string;
  server: string;
  kind: Kind;
  method: 'GET' | 'POST';
  path: string;
  /** Concurrent connections, when not BENCH_CONNECTIONS (the login rows: 1, so a request's time is one login's). */
  connections?: number;
  /** Measured in the first this many rounds only (the rows of "What every request pays": see PIECE_ROUNDS). */
  rounds?: number;
}

interface Measurement {
  round: number;
  result: LoadResult;
  /**
   * Cores busy while measured: the server, the load generator, Redis, PostgreSQL's backends
   * serving the run's database, the idle servers, and the rest of the machine (other processes,
   * PostgreSQL's background processes).
   */
  cpu: { server: number; driver: number; redis: number | null; postgres: number; idleServers: number; rest: number | null };
  /** Other processes kept more than DISTURBED_CORES busy. */
  disturbed: boolean;
  /** Seconds waited for a quiet machine before the run, and the cores other processes used just before it. */
  quiet: { waited: number; foreign: number | null };
}

/**
 * The pieces of the app's HTTP stack every request pays for before any session work, each left
 * out in a server of its own (`BENCH_OFF`, src/http/bench-off.ts) to measure what it costs.
 */
const PIECES = [
  { id: 'observer', label: 'the request observer (request id header, metrics, request-log hook)' },
  { id: 'metrics', label: 'the duration histogram (metrics) alone' },
  { id: 'helmet', label: 'helmet' },
  { id: 'json', label: 'the JSON-only and JSON-safety checks' },
  { id: 'cookies', label: 'the cookie parser (Express skips it for a request without a Cookie header)' },
  { id: 'throttle', label: 'the global rate-limit guard' },
] as const;
/** Rounds for the piece rows (BENCH_PIECE_ROUNDS, 2): ten servers more, and small differences read over two rounds of each. */
const PIECE_ROUNDS = Math.min(ROUNDS, Math.round(num('BENCH_PIECE_ROUNDS', 2)));

function specs(closedRedisPort: number): ServerSpec[] {
  const down = `redis://127.0.0.1:${closedRedisPort}/14`;
  const list: ServerSpec[] = [];
  for (const adapter of ['express', 'fastify'] as const) {
    list.push(
      {
        name: `${adapter}-default`,
        kind: 'app',
        adapter,
        env: { SESSION_BINDING: 'ua', LOG_LEVEL: 'info' },
        userAgent: BROWSER_UA,
        logsToDevNull: true,
        cookies: true,
        describe:
          'the default configuration: sessions bound to a browser User-Agent (SESSION_BINDING=ua), the access cookie, metrics, L1 on, a log line per request (LOG_LEVEL=info) to /dev/null',
      },
      { name: adapter, kind: 'app', adapter, env: {}, describe: 'lean: SESSION_BINDING=off, bearer header, LOG_LEVEL=warn (no request lines); L1 on, SESSION_LOCAL_CACHE_TTL=10' },
      { name: `${adapter}-nol1`, kind: 'app', adapter, env: { SESSION_LOCAL_CACHE_TTL: '0' }, describe: 'SESSION_LOCAL_CACHE_TTL=0: every validation reads Redis' },
      { name: `${adapter}-noredis`, kind: 'app', adapter, env: { REDIS_URL: down }, describe: `REDIS_URL at a closed port: breaker open, in-process rate limits, every validation reads PostgreSQL` },
      {
        name: `${adapter}-bare`,
        kind: 'bare',
        adapter,
        env: {},
        describe: 'a bare NestJS app (bench/peer/bare-nest-app.ts): GET /ping only, Nest\'s defaults, no helmet, rate limit, metrics, logging, JSON checks, body parser or session',
      },
      ...PIECES.map((piece) => ({
        name: `${adapter}-no-${piece.id}`,
        kind: 'app' as const,
        adapter,
        env: { BENCH_OFF: piece.id },
        describe: `lean, with \`BENCH_OFF=${piece.id}\`: ${piece.label} left out`,
      })),
    );
  }
  list.push(
    {
      name: 'better-auth',
      kind: 'better-auth',
      adapter: 'express',
      env: { BA_COOKIE_CACHE: 'off' },
      describe: 'better-auth in a minimal NestJS app (Express, no helmet, no rate limit), users in this PostgreSQL, sessions in Redis (secondary storage); cookie cache off',
    },
    {
      name: 'better-auth-extend',
      kind: 'better-auth',
      adapter: 'express',
      env: { BA_COOKIE_CACHE: 'off', BA_UPDATE_AGE: '0' },
      describe: 'the same with `updateAge` 0: every session check extends the session (storage written) and re-sets its cookie',
    },
    {
      name: 'better-auth-cc',
      kind: 'better-auth',
      adapter: 'express',
      env: { BA_COOKIE_CACHE: 'on' },
      describe: 'the same with its cookie cache on (a signed copy of the session in a cookie, 5 minutes)',
    },
    { name: 'peer', kind: 'peer', adapter: 'express', env: {}, describe: 'express-session + connect-redis in a minimal NestJS app (no helmet, no rate limit)' },
    {
      name: 'peer-app',
      kind: 'peer',
      adapter: 'express',
      env: { PEER_STACK: 'app' },
      describe: "express-session + connect-redis behind this app's own Express stack (JSON-only and JSON-safety middleware, body parser, helmet, cookie-parser, the Redis rate-limit guard), imported from src/",
    },
  );
  return list;
}

/**
 * The order within a round: the scenarios a target compares side by side, refresh (which leaves
 * PostgreSQL busy for a moment) at the end. Rounds alternate forward and backward.
 */
const MEASURE_ORDER = [
  'express-default-login',
  'better-auth-login',
  'express-bare-open',
  ...PIECES.map((p) => `express-open-no-${p.id}`),
  'express-default-open',
  'express-default-secure',
  'peer-app-secure',
  'peer-app-open',
  'fastify-default-open',
  'fastify-default-secure',
  'express-open',
  'express-secure',
  'better-auth-secure',
  'better-auth-cc-secure',
  'better-auth-open',
  'peer-secure',
  'peer-open',
  'fastify-open',
  ...PIECES.map((p) => `fastify-open-no-${p.id}`),
  'fastify-bare-open',
  'fastify-secure',
  'express-secure-nol1',
  'fastify-secure-nol1',
  'express-secure-noredis',
  'fastify-secure-noredis',
  'better-auth-extend',
  'express-default-refresh',
  'fastify-default-refresh',
  'express-refresh',
  'fastify-refresh',
];

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const adapter of ['express', 'fastify'] as const) {
    const fullDefault = `${adapter} (default configuration)`;
    list.push(
      { id: `${adapter}-default-open`, label: `${adapter} default: GET /ping (open)`, group: fullDefault, server: `${adapter}-default`, kind: 'open', method: 'GET', path: '/ping' },
      { id: `${adapter}-default-secure`, label: `${adapter} default: GET /ping/secure (cookie, UA bound)`, group: fullDefault, server: `${adapter}-default`, kind: 'secure', method: 'GET', path: '/ping/secure' },
      { id: `${adapter}-default-refresh`, label: `${adapter} default: POST /auth/refresh`, group: fullDefault, server: `${adapter}-default`, kind: 'refresh', method: 'POST', path: '/auth/refresh' },
    );
    list.push(
      { id: `${adapter}-open`, label: `${adapter}: GET /ping (open)`, group: adapter, server: adapter, kind: 'open', method: 'GET', path: '/ping' },
      { id: `${adapter}-secure`, label: `${adapter}: GET /ping/secure, L1 warm`, group: adapter, server: adapter, kind: 'secure', method: 'GET', path: '/ping/secure' },
      { id: `${adapter}-secure-nol1`, label: `${adapter}: /ping/secure, L1 off`, group: adapter, server: `${adapter}-nol1`, kind: 'secure', method: 'GET', path: '/ping/secure' },
      { id: `${adapter}-secure-noredis`, label: `${adapter}: /ping/secure, Redis down`, group: adapter, server: `${adapter}-noredis`, kind: 'secure', method: 'GET', path: '/ping/secure' },
      { id: `${adapter}-refresh`, label: `${adapter}: POST /auth/refresh`, group: adapter, server: adapter, kind: 'refresh', method: 'POST', path: '/auth/refresh' },
    );
    const pays = `${adapter}: what every request pays`;
    list.push(
      { id: `${adapter}-bare-open`, label: `${adapter}: bare NestJS, GET /ping`, group: pays, server: `${adapter}-bare`, kind: 'open', method: 'GET', path: '/ping' },
      ...PIECES.map((piece) => ({
        id: `${adapter}-open-no-${piece.id}`,
        label: `${adapter}: GET /ping (open), without ${piece.id}`,
        group: pays,
        server: `${adapter}-no-${piece.id}`,
        kind: 'open' as const,
        method: 'GET' as const,
        path: '/ping',
        rounds: PIECE_ROUNDS,
      })),
    );
  }
  list.push({
    id: 'express-default-login',
    label: 'express default: POST /auth/login (1 connection)',
    group: 'express (default configuration)',
    server: 'express-default',
    kind: 'login',
    method: 'POST',
    path: '/auth/login',
    connections: 1,
  });
  list.push(
    { id: 'better-auth-open', label: 'better-auth: GET /ping (open)', group: 'better-auth (peer)', server: 'better-auth', kind: 'open', method: 'GET', path: '/ping' },
    { id: 'better-auth-secure', label: 'better-auth: getSession, cookie cache off', group: 'better-auth (peer)', server: 'better-auth', kind: 'secure', method: 'GET', path: '/ping/secure' },
    {
      id: 'better-auth-extend',
      label: 'better-auth: getSession extending the session (updateAge 0)',
      group: 'better-auth (peer)',
      server: 'better-auth-extend',
      kind: 'secure',
      method: 'GET',
      path: '/ping/secure',
    },
    {
      id: 'better-auth-login',
      label: 'better-auth: POST /api/auth/sign-in/email (1 connection)',
      group: 'better-auth (peer)',
      server: 'better-auth',
      kind: 'login',
      method: 'POST',
      path: '/api/auth/sign-in/email',
      connections: 1,
    },
    { id: 'better-auth-cc-secure', label: 'better-auth: getSession, cookie cache on', group: 'better-auth (peer)', server: 'better-auth-cc', kind: 'secure', method: 'GET', path: '/ping/secure' },
    {
      id: 'peer-open',
      label: 'peer: GET /ping (open)',
      group: 'express-session (peer)',
      server: 'peer',
      kind: 'open',
      method: 'GET',
      path: '/ping',
    },
    {
      id: 'peer-secure',
      label: 'peer: express-session + connect-redis',
      group: 'express-session (peer)',
      server: 'peer',
      kind: 'secure',
      method: 'GET',
      path: '/ping/secure',
    },
    {
      id: 'peer-app-open',
      label: "peer in this app's HTTP stack: GET /ping (open)",
      group: 'express-session (peer)',
      server: 'peer-app',
      kind: 'open',
      method: 'GET',
      path: '/ping',
    },
    {
      id: 'peer-app-secure',
      label: "peer in this app's HTTP stack",
      group: 'express-session (peer)',
      server: 'peer-app',
      kind: 'secure',
      method: 'GET',
      path: '/ping/secure',
    },
  );
  return list;
}

// ------------------------------------------------------------------ load driver

class Driver {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { done: (r: LoadResult) => void; fail: (e: Error) => void }>();

  constructor() {
    this.child = fork(join(__dirname, 'load-driver.ts'), [], {
      cwd: ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: { ok: boolean; result?: LoadResult; id?: number; error?: string }) => {
      const id = message.ok ? message.result!.id! : message.id!;
      const waiter = this.waiting.get(id);
      this.waiting.delete(id);
      if (!waiter) return;
      if (message.ok) waiter.done(message.result!);
      else waiter.fail(new Error(`load driver: ${message.error}`));
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.fail(new Error(`load driver exited (${code})`));
      this.waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(job: LoadJob): Promise<LoadResult> {
    const id = this.nextId++;
    return new Promise((done, fail) => {
      this.waiting.set(id, { done, fail });
      this.child.send({ ...job, id });
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** CPU seconds the whole machine has been busy so far (all cores, everything but idle and iowait). */
function machineBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - fields[3] - fields[4]) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return null;
  }
}

let quietBudgetLeft = QUIET_BUDGET;

/** PostgreSQL backends connected to the run's database (the servers' pools, autovacuum on it). */
async function ourBackends(): Promise<number[]> {
  const pg = new Client({ connectionString: SERVER_DATABASE_URL });
  try {
    await pg.connect();
    const rows = (await pg.query('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [DATABASE])).rows;
    return rows.map((row: { pid: number }) => row.pid);
  } catch {
    return [];
  } finally {
    await pg.end().catch(() => undefined);
  }
}

/**
 * This machine may be shared (test suites of other work running on the same cores): before a
 * measured run, sample for 0.5 s how many cores processes other than ours (the servers, the load
 * generator, Redis) keep busy, and while that exceeds QUIET_CORES wait, up to 15 s per run and
 * BENCH_QUIET_BUDGET s in all. Returns the seconds waited and the foreign load at the start.
 */
async function waitForQuiet(ours: Array<number | undefined>): Promise<{ waited: number; foreign: number | null }> {
  const sample = async (): Promise<number | null> => {
    const sum = () => ours.map((pid) => cpuSeconds(pid) ?? 0).reduce((a, b) => a + b, 0);
    const m0 = machineBusySeconds();
    const o0 = sum();
    const t0 = performance.now();
    await sleep(500);
    const m1 = machineBusySeconds();
    const o1 = sum();
    const seconds = (performance.now() - t0) / 1000;
    return m0 === null || m1 === null ? null : Math.max(0, (m1 - m0 - (o1 - o0)) / seconds);
  };
  const started = performance.now();
  let foreign = await sample();
  while (foreign !== null && foreign > QUIET_CORES && quietBudgetLeft > 0 && (performance.now() - started) / 1000 < QUIET_MAX_WAIT) {
    await sleep(500);
    quietBudgetLeft -= 1;
    foreign = await sample();
  }
  return { waited: (performance.now() - started) / 1000 - 0.5, foreign };
}

/** The body of a login scenario: the server's login user and the bench password. */
const loginBody = (server: Server) => ({ email: server.loginEmail!, password: PASSWORD });

function jobFor(scenario: Scenario, server: Server, seconds: number): LoadJob {
  const job: LoadJob = {
    url: `http://127.0.0.1:${server.port}`,
    method: scenario.method,
    path: scenario.path,
    headers: { 'user-agent': server.userAgent ?? 'bench/1.0' },
    connections: scenario.connections ?? CONNECTIONS,
    seconds,
  };
  if (scenario.kind === 'secure') job.headers![server.auth!.header] = server.auth!.value;
  if (scenario.kind === 'login') {
    job.headers!['content-type'] = 'application/json';
    job.body = JSON.stringify(loginBody(server));
  }
  if (scenario.kind === 'refresh') {
    job.headers!['content-type'] = 'application/json';
    job.refreshPool = server.refreshPool.splice(0, server.refreshPool.length);
  }
  return job;
}

async function measure(
  driver: Driver,
  scenario: Scenario,
  server: Server,
  others: Server[],
  seconds: number,
  redisPid: number | undefined,
  gate: boolean,
): Promise<Measurement['cpu'] & { result: LoadResult; quiet: Measurement['quiet'] }> {
  if (scenario.kind === 'refresh' && server.refreshPool.length < CONNECTIONS + REFRESH_SPARE) {
    await topUpRefreshPool(server, CONNECTIONS + REFRESH_SPARE - server.refreshPool.length);
  }
  const quiet = gate
    ? await waitForQuiet([server.child.pid, driver.pid, redisPid, ...others.map((o) => o.child.pid)])
    : { waited: 0, foreign: null };
  const job = jobFor(scenario, server, seconds);
  const pgBefore = new Map((await ourBackends()).map((pid) => [pid, cpuSeconds(pid) ?? 0]));
  const before = {
    server: cpuSeconds(server.child.pid),
    driver: cpuSeconds(driver.pid),
    redis: cpuSeconds(redisPid),
    idle: others.map((o) => cpuSeconds(o.child.pid) ?? 0).reduce((a, b) => a + b, 0),
    machine: machineBusySeconds(),
  };
  const result = await driver.run(job);
  const after = {
    server: cpuSeconds(server.child.pid),
    driver: cpuSeconds(driver.pid),
    redis: cpuSeconds(redisPid),
    idle: others.map((o) => cpuSeconds(o.child.pid) ?? 0).reduce((a, b) => a + b, 0),
    machine: machineBusySeconds(),
  };
  if (job.refreshPool) server.refreshPool.push(...(result.leftoverPool ?? []));
  delete result.leftoverPool;
  const share = (a: number | null, b: number | null) => (a === null || b === null ? null : (b - a) / result.seconds);
  const cpu = {
    server: share(before.server, after.server) ?? Number.NaN,
    driver: share(before.driver, after.driver) ?? Number.NaN,
    redis: share(before.redis, after.redis),
    idleServers: (after.idle - before.idle) / result.seconds,
  };
  let postgresSeconds = 0;
  for (const pid of new Set([...pgBefore.keys(), ...(await ourBackends())])) {
    const now = cpuSeconds(pid);
    if (now !== null) postgresSeconds += now - (pgBefore.get(pid) ?? 0);
  }
  const postgres = postgresSeconds / result.seconds;
  const machine = share(before.machine, after.machine);
  const rest =
    machine === null ? null : Math.max(0, machine - cpu.server - cpu.driver - (cpu.redis ?? 0) - postgres - cpu.idleServers);
  return { result, ...cpu, postgres, rest, quiet };
}

function problemsOf(result: LoadResult): string[] {
  const problems: string[] = [];
  const bad = Object.entries(result.statuses).filter(([status]) => !status.startsWith('2'));
  if (bad.length) problems.push(`non-2xx: ${bad.map(([s, n]) => `${s}×${n}`).join(' ')}`);
  if (result.errors) problems.push(`${result.errors} connection errors`);
  if (result.timeouts) problems.push(`${result.timeouts} timeouts`);
  if (result.poolExhausted) problems.push(`refresh pool ran dry ${result.poolExhausted}×`);
  return problems;
}

// ------------------------------------------------------------------ checks and facts

/**
 * Whether the server keeps the session in its in-process L1: requests spread over ~2.3 s, then
 * `OBJECT IDLETIME` of the session's Redis key. With the L1 the key was read once, at the first
 * request (idle ≥ 2 s); without it, at every request (idle 0).
 */
async function l1Check(server: Server, redis: Redis): Promise<{ idleSeconds: number | null; l1: boolean | null }> {
  for (let i = 0; i < 12; i++) {
    const res = await request(server, 'GET', '/ping/secure', { headers: { [server.auth!.header]: server.auth!.value } });
    if (res.status !== 200) throw new Error(`${server.name}: GET /ping/secure answered ${res.status}`);
    await sleep(200);
  }
  const key = await findSessionKey(server, redis);
  if (!key) return { idleSeconds: null, l1: null };
  try {
    const idle = (await redis.object('IDLETIME', key)) as number | null;
    if (idle === null || idle === undefined) return { idleSeconds: null, l1: null };
    return { idleSeconds: idle, l1: idle >= 2 };
  } catch {
    return { idleSeconds: null, l1: null };
  }
}

/**
 * The Redis key under which the app caches the session of `server.auth`: `<prefix>s:` followed by
 * the SHA-256 of the access token in base64url, or a leading part of it (found by SCAN, so a
 * shorter key format is found as well). Failing that, the one session entry under the prefix.
 */
async function findSessionKey(server: Server, redis: Redis): Promise<string | null> {
  const hash = createHash('sha256').update(server.auth!.accessToken!).digest('base64url');
  const base = `${server.prefix}s:`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const match = keys.find((key) => key.length > base.length + 8 && hash.startsWith(key.slice(base.length)));
  if (match) return match;
  const live: string[] = [];
  for (const key of keys) if ((await redis.get(key).catch(() => '!')) !== '!') live.push(key);
  return live.length === 1 ? live[0] : null;
}

interface MemoryFacts {
  sessionKey: string;
  sessionKeyLength: number;
  /** Characters of the key after `<prefix>s:`. */
  sessionKeyHashChars: number;
  sessionKeyBytes: number | null;
  /** The same entry under a key as long as the default prefix `nsm:` makes it. */
  defaultPrefixKeyBytes: number | null;
  sessionValueBytes: number | null;
  userIndexKeyBytes: number | null;
  userIndexMembers: number | null;
  peerKeyBytes: number | null;
  peerValueBytes: number | null;
}

async function redisMemory(app: Server | undefined, peer: Server | undefined, redis: Redis): Promise<MemoryFacts | null> {
  if (!app?.auth?.accessToken) return null;
  // One validation, so the session is in Redis as the cache left it.
  await request(app, 'GET', '/ping/secure', { headers: { [app.auth.header]: app.auth.value } });
  const sessionKey = await findSessionKey(app, redis);
  if (!sessionKey) return null;
  const userKey = `${app.prefix}u:${app.auth.userId}`;
  const usage = async (key: string) => ((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null) ?? null;
  const facts: MemoryFacts = {
    sessionKey: `${app.prefix}s:`,
    sessionKeyLength: sessionKey.length,
    sessionKeyHashChars: sessionKey.length - `${app.prefix}s:`.length,
    sessionKeyBytes: await usage(sessionKey),
    sessionValueBytes: (await redis.strlen(sessionKey)) || null,
    userIndexKeyBytes: await usage(userKey),
    userIndexMembers: (await redis.scard(userKey)) || null,
    defaultPrefixKeyBytes: null,
    peerKeyBytes: null,
    peerValueBytes: null,
  };
  // A copy under a key of the default prefix's length (`nsm:` is 4 characters), with the same
  // TTL, measured and deleted at once.
  const value = await redis.get(sessionKey);
  const pttl = await redis.pttl(sessionKey);
  if (value !== null && pttl > 0) {
    const copy = `${TAG.slice(-4)}s:${sessionKey.slice(`${app.prefix}s:`.length)}`;
    try {
      await redis.set(copy, value, 'PX', pttl);
      facts.defaultPrefixKeyBytes = await usage(copy);
    } finally {
      await redis.del(copy);
    }
  }
  if (peer?.auth?.cookieSid) {
    const peerKey = `${peer.prefix}${peer.auth.cookieSid}`;
    facts.peerKeyBytes = await usage(peerKey);
    facts.peerValueBytes = (await redis.strlen(peerKey)) || null;
  }
  return facts;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

interface Facts {
  machine: { cores: number; model: string; memoryGiB: number; kernel: string; loadAverageAtStart: number[] };
  versions: Record<string, string>;
}

async function facts(redis: Redis): Promise<Facts> {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? '?';
  const pg = new Client({ connectionString: SERVER_DATABASE_URL });
  let postgres: string;
  try {
    await pg.connect();
    postgres = (await pg.query('SHOW server_version')).rows[0].server_version;
  } finally {
    await pg.end().catch(() => undefined);
  }
  const info = await redis.info('server');
  return {
    machine: {
      cores: os.cpus().length,
      model,
      memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      kernel: `${os.type()} ${os.release()}`,
      loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    versions: {
      node: process.version,
      '@nestjs/core': packageVersion('@nestjs/core'),
      '@nestjs/platform-express': packageVersion('@nestjs/platform-express'),
      express: packageVersion('express'),
      '@nestjs/platform-fastify': packageVersion('@nestjs/platform-fastify'),
      fastify: packageVersion('fastify'),
      postgresql: postgres,
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
      ioredis: packageVersion('ioredis'),
      'express-session': packageVersion('express-session'),
      'connect-redis': packageVersion('connect-redis'),
      'redis (node-redis, the peer)': packageVersion('redis'),
      autocannon: packageVersion('autocannon'),
    },
  };
}

// ------------------------------------------------------------------ password hashing

interface HashCost {
  algorithm: string;
  /** Process CPU per check (all threads: the hash runs on libuv's pool), µs, median of the batches. */
  cpuUs: number;
  /** Wall time per check, one at a time, µs, median. */
  wallUs: number;
  checks: number;
}

/**
 * What one password check costs each login, measured in this process, one check at a time, after
 * the servers stopped: this app's `PasswordHasher` (src/users, @node-rs/argon2 with the app's own
 * parameters) and better-auth's exported default (`better-auth/crypto`, scrypt from node:crypto).
 * A login verifies once; a verify costs what a hash costs (the same parameters).
 */
async function passwordHashCosts(): Promise<HashCost[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PasswordHasher } = require('../src/users/password-hasher') as typeof import('../src/users/password-hasher');
  // better-auth ships ES modules only; Node ≥ 20.19 requires them from CommonJS.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const betterAuth = require('better-auth/crypto') as typeof import('better-auth/crypto');
  const argon2 = new PasswordHasher();
  const argon2Hash = await argon2.hash(PASSWORD);
  const scryptHash = await betterAuth.hashPassword(PASSWORD);
  const time = async (algorithm: string, check: () => Promise<boolean>): Promise<HashCost> => {
    if (!(await check())) throw new Error(`${algorithm}: the check refused the right password`);
    const cpu: number[] = [];
    const wall: number[] = [];
    const batches = 5;
    const perBatch = 6;
    for (let b = 0; b < batches; b++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < perBatch; i++) await check();
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      cpu.push((c1.user + c1.system) / perBatch);
      wall.push(((t1 - t0) * 1000) / perBatch);
    }
    return { algorithm, cpuUs: median(cpu), wallUs: median(wall), checks: batches * perBatch };
  };
  return [
    await time('this app: argon2id (@node-rs/argon2, m=19456 KiB, t=2, p=1: PasswordHasher.verify)', () => argon2.verify(argon2Hash, PASSWORD)),
    await time("better-auth: its default, scrypt (node:crypto, N=16384, r=16, p=1: better-auth/crypto's verifyPassword)", () =>
      betterAuth.verifyPassword({ hash: scryptHash, password: PASSWORD }),
    ),
  ];
}

// ------------------------------------------------------------------ build

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuild(): string {
  const stale = !existsSync(APP) || statSync(APP).mtimeMs < newestMtime(join(ROOT, 'src'));
  if (BUILD === 'never' || (BUILD === 'auto' && !stale)) {
    if (stale) console.warn('bench: dist/main.js is older than src/ and BENCH_BUILD=never: measuring the last build.');
    return stale ? 'stale build (BENCH_BUILD=never)' : 'dist/main.js up to date, not rebuilt';
  }
  out(`bench: ${stale ? 'dist/main.js is missing or older than src/' : 'BENCH_BUILD=always'}: npx nest build -b tsc …`);
  const built = spawnSync('npx', ['nest', 'build', '-b', 'tsc'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npx nest build -b tsc failed');
  return 'rebuilt with `npx nest build -b tsc` at the start of the run';
}

// ------------------------------------------------------------------ report

interface Summary {
  scenario: Scenario;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50: number;
  p99: number;
  serverCpu: number;
  driverCpu: number;
  redisCpu: number | null;
  postgresCpu: number;
  /** Server CPU time per 2xx answer, in µs: what a request costs, whatever else the machine does. */
  cpuPerRequest: number;
  restCpu: number | null;
  problems: string[];
  rounds: Measurement[];
  /** The rounds the figures are taken from: the undisturbed ones, or all when every round was disturbed. */
  used: Measurement[];
}

function summarize(scenario: Scenario, all: Measurement[]): Summary {
  const quiet = all.filter((m) => !m.disturbed);
  const rounds = quiet.length ? quiet : all;
  const rps = rounds.map((m) => m.result.rps);
  return {
    scenario,
    rps: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    p50: median(rounds.map((m) => m.result.latency.p50)),
    p99: median(rounds.map((m) => m.result.latency.p99)),
    serverCpu: mean(rounds.map((m) => m.cpu.server)),
    driverCpu: mean(rounds.map((m) => m.cpu.driver)),
    redisCpu: rounds.every((m) => m.cpu.redis !== null) ? mean(rounds.map((m) => m.cpu.redis!)) : null,
    postgresCpu: mean(rounds.map((m) => m.cpu.postgres)),
    cpuPerRequest: median(rounds.map((m) => (m.cpu.server / m.result.rps) * 1e6)),
    restCpu: rounds.every((m) => m.cpu.rest !== null) ? mean(rounds.map((m) => m.cpu.rest!)) : null,
    problems: [...new Set(all.flatMap((m) => problemsOf(m.result).map((p) => `round ${m.round + 1}: ${p}`)))],
    rounds: all,
    used: rounds,
  };
}

interface Target {
  name: string;
  value: number | null;
  display: string;
  target: string;
  met: boolean | null;
  /** How the value was obtained. */
  basis: string;
  /** True when the rounds disagree in sign or the value is negative: a difference below what the run resolves. */
  unresolved?: boolean;
}

/**
 * The ratio of two scenarios' req/s, paired by round (the two ran next to each other in every
 * round): the median of the per-round ratios, over the rounds in which neither was disturbed,
 * or over all rounds when there is no such round.
 */
function pairedRatio(a: Summary | undefined, b: Summary | undefined): { value: number | null; basis: string } {
  const paired = pairedRounds(a, b);
  if ('basis' in paired) return { value: null, basis: paired.basis };
  const ratios = paired.use.map(([m, n]) => m.result.rps / n.result.rps);
  return { value: median(ratios), basis: `median of per-round ratios (${ratios.map((r) => r.toFixed(2)).join(', ')}), ${paired.which}` };
}

/**
 * The measured runs of two scenarios paired by round: the undisturbed pairs, or all of them when
 * none is, and which those are in words; or why there is nothing to pair.
 */
function pairedRounds(
  a: Summary | undefined,
  b: Summary | undefined,
): { use: Array<readonly [Measurement, Measurement]>; which: string } | { basis: string } {
  if (!a || !b) return { basis: 'not part of this run' };
  if (a.problems.length || b.problems.length) return { basis: 'a scenario had errors' };
  const pairs = a.rounds
    .map((m) => [m, b.rounds.find((n) => n.round === m.round)] as const)
    .filter((pair): pair is readonly [Measurement, Measurement] => pair[1] !== undefined);
  if (pairs.length === 0) return { basis: 'no rounds' };
  const clean = pairs.filter(([m, n]) => !m.disturbed && !n.disturbed);
  const which = clean.length === pairs.length ? 'every round' : clean.length ? `the ${clean.length} undisturbed of ${pairs.length} rounds` : `all ${pairs.length} rounds, every one disturbed`;
  return { use: clean.length ? clean : pairs, which };
}

/** Server CPU µs per 2xx answer of one measured run. */
const cpuUs = (m: Measurement) => (m.cpu.server / m.result.rps) * 1e6;

/**
 * Server CPU µs per request of two scenarios, paired by round like pairedRatio: the median of the
 * per-round differences (a − b) or ratios (a / b).
 */
function pairedCpu(a: Summary | undefined, b: Summary | undefined, op: 'diff' | 'ratio'): { value: number | null; basis: string; unresolved?: boolean } {
  const paired = pairedRounds(a, b);
  if ('basis' in paired) return { value: null, basis: paired.basis };
  const { use, which } = paired; // both are defined here
  const values = use.map(([m, n]) => (op === 'diff' ? cpuUs(m) - cpuUs(n) : cpuUs(m) / cpuUs(n)));
  const shown = values.map((v) => (op === 'diff' ? v.toFixed(0) : v.toFixed(2))).join(', ');
  const value = median(values);
  // A difference whose rounds disagree in sign, or that came out negative, is smaller than the
  // round-to-round spread of the two CPU figures it subtracts: this run cannot say what it is.
  const unresolved = op === 'diff' && (value < 0 || (Math.min(...values) < 0 && Math.max(...values) > 0));
  return {
    value,
    unresolved,
    basis:
      `server CPU µs/req, ${a!.scenario.id} ${op === 'diff' ? '−' : '/'} ${b!.scenario.id}: median of per-round ${op === 'diff' ? 'differences' : 'ratios'} (${shown}), ${which}` +
      (unresolved ? '; ⚠ the rounds disagree in sign or the difference is negative: below what this run resolves, not a measured cost' : ''),
  };
}

function targets(summaries: Map<string, Summary>, memory: MemoryFacts | null, hashes: HashCost[] | null): Target[] {
  const ratio = (a: string, b: string) => pairedRatio(summaries.get(a), summaries.get(b));
  const list: Target[] = [];
  const add = (name: string, measured: { value: number | null; basis: string }, goal: number, unit: 'ratio' | 'times' | 'bytes', atMost = false) => {
    const { value, basis } = measured;
    const display =
      value === null ? 'not measured' : unit === 'bytes' ? `${value} bytes` : unit === 'times' ? `${value.toFixed(2)}×` : value.toFixed(3);
    const target = unit === 'bytes' ? `≤ ${goal} bytes` : unit === 'times' ? `≥ ${goal.toFixed(2)}×` : `≥ ${goal.toFixed(2)}`;
    list.push({ name, value, display, target, basis, met: value === null ? null : atMost ? value <= goal : value >= goal });
  };
  add('Express, default configuration: refresh / guarded req/s (issue 15)', ratio('express-default-refresh', 'express-default-secure'), 0.3, 'ratio');
  add('Express default guarded vs better-auth guarded, cookie cache off (issue 15)', ratio('express-default-secure', 'better-auth-secure'), 1.5, 'times');
  add('Express default guarded vs better-auth guarded, cookie cache on (issue 15)', ratio('express-default-secure', 'better-auth-cc-secure'), 1.0, 'times');
  add('Fastify: guarded / open req/s', ratio('fastify-secure', 'fastify-open'), 0.8, 'ratio');
  add('Express: guarded / open req/s', ratio('express-secure', 'express-open'), 0.95, 'ratio');
  add('Express guarded vs express-session + connect-redis (minimal peer app)', ratio('express-secure', 'peer-secure'), 1.25, 'times');
  const sameStack = ratio('express-secure', 'peer-app-secure');
  list.push({
    name: 'For reference: Express guarded vs express-session + connect-redis behind the same HTTP stack',
    value: sameStack.value,
    display: sameStack.value === null ? 'not measured' : `${sameStack.value.toFixed(2)}×`,
    target: '(none)',
    met: null,
    basis: sameStack.basis,
  });
  // Issue 15: the session-extension path, login beside one password check, the guard's CPU, what every request pays.
  const extension = ratio('express-default-refresh', 'better-auth-extend');
  const extensionCpu = pairedCpu(summaries.get('express-default-refresh'), summaries.get('better-auth-extend'), 'ratio');
  list.push({
    name: "This module's refresh (Express, default configuration) / better-auth's session extension (updateAge 0), req/s (issue 15)",
    value: extension.value,
    display: extension.value === null ? 'not measured' : `${extension.value.toFixed(2)}×`,
    target: '(none)',
    met: null,
    basis: `${extension.basis}; server CPU per request, refresh / extension: ${extensionCpu.value === null ? 'not measured' : extensionCpu.value.toFixed(2)}`,
  });
  const atMost = (name: string, measured: { value: number | null; basis: string; unresolved?: boolean }, goal: number, unit: 'µs' | 'ratio' | 'times', noTarget = false) => {
    const { value, basis, unresolved } = measured;
    const fmt = (v: number) => (unit === 'µs' ? `${v.toFixed(1)} µs` : unit === 'times' ? `${v.toFixed(2)}×` : v.toFixed(2));
    list.push({
      name,
      value,
      display: value === null ? 'not measured' : fmt(value),
      target: noTarget ? '(none)' : `≤ ${fmt(goal)}`,
      basis,
      met: value === null ? null : value <= goal,
      unresolved,
    });
  };
  const loginVsHash = (scenario: string, hash: HashCost | undefined) => {
    const login = summaries.get(scenario);
    if (!login || !hash) return { value: null, basis: !hash ? 'password check not timed' : 'not part of this run' };
    if (login.problems.length) return { value: null, basis: 'the login scenario had errors' };
    return {
      value: login.cpuPerRequest / hash.cpuUs,
      basis:
        `server CPU per login ${fmtInt(login.cpuPerRequest)} µs (all its threads, 1 connection, p50 ${fmtMs(login.p50)}) / ` +
        `${fmtInt(hash.cpuUs)} µs of CPU for one password check in-process (wall ${fmtInt(hash.wallUs)} µs; ${hash.algorithm})`,
    };
  };
  atMost('Express default: login server CPU / one password check, argon2id (issue 15)', loginVsHash('express-default-login', hashes?.[0]), 1.1, 'times');
  atMost('For reference: better-auth sign-in server CPU / one password check, its scrypt', loginVsHash('better-auth-login', hashes?.[1]), 1.1, 'times', true);
  const cpu = (a: string, b: string, op: 'diff' | 'ratio') => pairedCpu(summaries.get(a), summaries.get(b), op);
  atMost('Express, default configuration: server CPU the session guard adds per request (guarded − open) (issue 15)', cpu('express-default-secure', 'express-default-open', 'diff'), 10, 'µs');
  atMost('Fastify, default configuration: server CPU the session guard adds per request (guarded − open) (issue 15)', cpu('fastify-default-secure', 'fastify-default-open', 'diff'), 5, 'µs');
  const ours = cpu('express-default-secure', 'express-default-open', 'diff');
  const theirs = cpu('peer-app-secure', 'peer-app-open', 'diff');
  atMost(
    "Express: the guard's added CPU / what express-session + connect-redis adds behind the same HTTP stack (issue 15)",
    {
      value: ours.value === null || theirs.value === null || theirs.value <= 0 ? null : ours.value / theirs.value,
      unresolved: ours.unresolved || theirs.unresolved,
      basis: `${ours.value === null ? '?' : ours.value.toFixed(1)} µs / ${theirs.value === null ? '?' : theirs.value.toFixed(1)} µs (${theirs.basis})`,
    },
    0.5,
    'ratio',
  );
  for (const adapter of ['express', 'fastify']) {
    const name = adapter === 'express' ? 'Express' : 'Fastify';
    atMost(`${name}, default configuration: open route / bare NestJS route, server CPU per request (issue 15)`, cpu(`${adapter}-default-open`, `${adapter}-bare-open`, 'ratio'), 1.25, 'times');
    atMost(`${name}, lean: open route / bare NestJS route, server CPU per request (issue 15)`, cpu(`${adapter}-open`, `${adapter}-bare-open`, 'ratio'), 1.25, 'times');
  }
  add(
    'Redis memory per cached session (default prefix `nsm:`)',
    {
      value: memory?.defaultPrefixKeyBytes ?? memory?.sessionKeyBytes ?? null,
      basis:
        memory?.defaultPrefixKeyBytes != null
          ? `\`MEMORY USAGE\` of the session's entry after a validation, under a key as long as the default prefix makes it; ${memory.sessionKeyBytes} bytes under this run's ${memory.sessionKey.length - 2}-character prefix`
          : '`MEMORY USAGE` of the session entry after a validation, under this run\'s prefix',
    },
    200,
    'bytes',
    true,
  );
  return list;
}

const verdict = (t: Target) =>
  t.target === '(none)' ? '' : t.met === null ? 'not measured' : t.unresolved ? '**unresolved** (within noise)' : t.met ? '**met**' : '**not met**';

function markdown(input: {
  summaries: Summary[];
  targets: Target[];
  memory: MemoryFacts | null;
  facts: Facts;
  build: string;
  servers: ServerSpec[];
  l1: Record<string, { idleSeconds: number | null; l1: boolean | null }>;
  scale: string;
  startedAt: Date;
  wallSeconds: number;
  partial: boolean;
  hashes: HashCost[] | null;
}): string {
  const { summaries, facts: f, memory } = input;
  const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : `${Math.round(x * 100)}%`);
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.ts) on ${input.startedAt.toISOString()}; the run took ${Math.round(input.wallSeconds)} s. ` +
      `Command: \`BENCH_SECONDS=${SECONDS} BENCH_ROUNDS=${ROUNDS} BENCH_WARMUP=${WARMUP} BENCH_CONNECTIONS=${CONNECTIONS} npm run bench\`` +
      (input.partial ? ` with \`BENCH_ONLY=${ONLY!.join(',')}\` (a partial run)` : '') +
      '. Every figure below comes from that one run; raw numbers per round are in `bench/results.json`.',
    '',
    ...(() => {
      const runs = summaries.flatMap((s) => s.rounds);
      const rest = runs.map((m) => m.cpu.rest).filter((r): r is number => r !== null);
      const busy = rest.length ? mean(rest) : 0;
      return busy > 0.25
        ? [
            `> ⚠ The machine was not quiet: while a scenario was measured, processes outside the benchmark kept ` +
              `${Math.round(busy * 100)}% of a core busy on average (column "other CPU"), and ${runs.filter((m) => m.disturbed).length} of ${runs.length} measured runs were disturbed. ` +
              'Figures are lower and noisier than on an idle machine; the ratios, taken between neighbours of the same round, suffer less.',
            '',
          ]
        : [];
    })(),
    '## Targets (issue 5)',
    '',
    '| | measured | target | | how |',
    '| --- | ---: | --- | --- | --- |',
    ...input.targets.map((t) => `| ${t.name} | ${t.display} | ${t.target} | ${verdict(t)} | ${t.basis} |`),
    '',
    '## Results',
    '',
    `Requests per second (median of ${ROUNDS} rounds of ${SECONDS} s, min–max of the rounds used in brackets) and latency of the 2xx answers ` +
      `(p50 and p99, median of the rounds' percentiles) at ${CONNECTIONS} concurrent keep-alive connections. ` +
      `A round during which processes outside the benchmark kept more than ${DISTURBED_CORES} core busy is *disturbed* and left out of the medians ` +
      '(unless every round of the scenario was). CPU columns: cores in use while measured, 100% = one full core (the machine has ' +
      `${f.machine.cores}): the server process, the load generator, Redis, the PostgreSQL backends of the run's database, and other processes.`,
    '',
    '| scenario | req/s | p50 | p99 | server CPU µs/req | server CPU | load-gen CPU | Redis CPU | PostgreSQL CPU | other CPU | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...summaries.map(
      (s) =>
        `| ${s.scenario.label} | ${fmtInt(s.rps)} (${fmtInt(s.rpsMin)}–${fmtInt(s.rpsMax)}) | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtInt(s.cpuPerRequest)} | ${pct(s.serverCpu)} | ${pct(s.driverCpu)} | ${pct(s.redisCpu)} | ${pct(s.postgresCpu)} | ${pct(s.restCpu)} | ${[
          ...(s.used.length < s.rounds.length ? [`${s.rounds.length - s.used.length} of ${s.rounds.length} rounds disturbed, left out`] : []),
          ...(s.rounds.every((m) => m.disturbed) ? ['every round disturbed'] : []),
          ...(s.problems.length ? [`⚠ ${s.problems.join('; ')}`] : []),
        ].join('; ')} |`,
    ),
    '',
    '![Requests per second per scenario](bench/results.svg)',
    '',
  );
  const other: string[] = [];
  const by = new Map(summaries.map((s) => [s.scenario.id, s]));
  const rel = (a: string, b: string, text: string) => {
    const x = by.get(a);
    const y = by.get(b);
    if (x && y) other.push(`- ${text}: ${(x.rps / y.rps).toFixed(2)} (${fmtInt(x.rps)} / ${fmtInt(y.rps)} req/s)`);
  };
  for (const adapter of ['express', 'fastify']) {
    rel(`${adapter}-secure-nol1`, `${adapter}-secure`, `${adapter}, L1 off / L1 warm`);
    rel(`${adapter}-secure-noredis`, `${adapter}-secure`, `${adapter}, Redis down (PostgreSQL path) / L1 warm`);
    rel(`${adapter}-refresh`, `${adapter}-secure`, `${adapter}, refresh / guarded`);
  }
  const guardCost = (secure: string, open: string, text: string) => {
    const x = by.get(secure);
    const y = by.get(open);
    if (x && y) {
      other.push(
        `- ${text}: the guarded route costs ${fmtInt(x.cpuPerRequest)} µs of server CPU per request, the open one ${fmtInt(y.cpuPerRequest)} µs: ` +
          `the guard adds ${fmtInt(x.cpuPerRequest - y.cpuPerRequest)} µs (${Math.round(((x.cpuPerRequest - y.cpuPerRequest) / y.cpuPerRequest) * 100)}%)`,
      );
    }
  };
  guardCost('express-secure', 'express-open', 'express');
  guardCost('fastify-secure', 'fastify-open', 'fastify');
  guardCost('peer-secure', 'peer-open', 'express-session peer');
  rel('peer-open', 'express-open', 'open route, peer (bare NestJS on Express) / this app on Express');
  rel('fastify-secure', 'express-secure', 'guarded, Fastify / Express');
  rel('fastify-open', 'express-open', 'open, Fastify / Express');
  rel('express-secure-nol1', 'peer-secure', 'Express with L1 off (one Redis read per request) vs the peer');
  if (other.length) push('Other ratios from the same run:', '', ...other, '');

  // Issue 15: what every request pays before any session work, piece by piece.
  const paysRows: string[] = [];
  for (const adapter of ['express', 'fastify']) {
    const lean = by.get(`${adapter}-open`);
    const bare = by.get(`${adapter}-bare-open`);
    if (!lean && !bare) continue;
    const cell = (m: { value: number | null; basis: string }) => (m.value === null ? 'not measured' : `${m.value.toFixed(1)} µs`);
    paysRows.push(`| ${adapter}: bare NestJS GET /ping | ${bare ? `${fmtInt(bare.cpuPerRequest)} µs` : 'not measured'} | the baseline (median of its rounds) |`);
    paysRows.push(`| ${adapter}: this app's open GET /ping, lean | ${lean ? `${fmtInt(lean.cpuPerRequest)} µs` : 'not measured'} | median of its rounds |`);
    const total = pairedCpu(lean, bare, 'diff');
    paysRows.push(`| ${adapter}: lean open route − bare | ${cell(total)} | ${total.basis} |`);
    for (const piece of PIECES) {
      const m = pairedCpu(lean, by.get(`${adapter}-open-no-${piece.id}`), 'diff');
      paysRows.push(`| ${adapter}: ${piece.label} | ${cell(m)} | ${m.basis} |`);
    }
    const logging = pairedCpu(by.get(`${adapter}-default-open`), lean, 'diff');
    paysRows.push(`| ${adapter}: a request log line (LOG_LEVEL=info to /dev/null, the default configuration's open route − lean) | ${cell(logging)} | ${logging.basis} |`);
  }
  if (paysRows.length) {
    push(
      '## What every request pays (issue 15)',
      '',
      'Server CPU per request of the open `GET /ping`, before any session work: the lean app against a bare NestJS app on the same adapter, and what each piece of the stack costs ' +
        '(the lean open route minus the same app started with that piece left out, `BENCH_OFF=<piece>`, a bench-only switch read in src/http/bench-off.ts). ' +
        `The piece rows were measured in ${PIECE_ROUNDS} round(s) (BENCH_PIECE_ROUNDS), the others in ${ROUNDS}; differences of a few µs are within the noise of a shared 2-core machine. ` +
        "The `metrics` piece is part of `observer`; what is left of 'lean − bare' after the pieces is Nest's global guards and filters of this app (the session guard's check of `@Public`, the role guard), its interceptors, and Express/Fastify settings.",
      '',
      '| | server CPU µs/req | how |',
      '| --- | ---: | --- |',
      ...paysRows,
      '',
    );
  }
  if (input.hashes?.length) {
    push(
      '## One password check (issue 15)',
      '',
      'Timed in the bench process after the servers stopped, one check at a time (5 batches of 6, median), beside the login rows (1 connection):',
      '',
      ...input.hashes.map((h) => `- ${h.algorithm}: ${fmtInt(h.cpuUs)} µs of CPU, ${fmtInt(h.wallUs)} µs wall per check`),
      '',
    );
  }

  push('## Redis memory per session', '');
  if (memory) {
    push(
      `\`MEMORY USAGE ${memory.sessionKey}<${memory.sessionKeyHashChars} characters of the access token's SHA-256, base64url> SAMPLES 0\` of the session the guarded scenarios used, after a validation: ` +
        `**${memory.sessionKeyBytes ?? '?'} bytes** (value ${memory.sessionValueBytes ?? '?'} bytes, key ${memory.sessionKeyLength} bytes, of which the run's prefix takes ${memory.sessionKey.length - 2}); ` +
        `the same entry under a key as long as the default prefix \`sess:\` makes it: **${memory.defaultPrefixKeyBytes ?? '?'} bytes**. ` +
        `Each user also has one index set \`<prefix>u:<user id>\` (${memory.userIndexKeyBytes ?? '?'} bytes with ${memory.userIndexMembers ?? '?'} member), ` +
        'shared by all of that user\'s cached sessions.' +
        (memory.peerKeyBytes !== null
          ? ` For comparison, connect-redis stores the peer's session in ${memory.peerKeyBytes} bytes (value ${memory.peerValueBytes} bytes of JSON).`
          : ''),
      '',
    );
  } else {
    push('not measured (the express scenarios were not part of this run)', '');
  }

  push(
    '## Machine and versions',
    '',
    `- ${f.machine.cores} cores: ${f.machine.model}; ${f.machine.memoryGiB} GiB memory; ${f.machine.kernel}; load average at the start ${f.machine.loadAverageAtStart.join(' / ')}`,
    `- ${Object.entries(f.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    `- PostgreSQL and Redis run on the same machine (loopback); so do the servers and the load generator, which share the ${f.machine.cores} cores.`,
    '',
    '## Method',
    '',
    `- The app is the compiled \`dist/main.js\` (${input.build}), started by the script, one process per configuration, each on a free port, with ` +
      '`NODE_ENV=production`, a `SESSION_SECRET`, a PostgreSQL database created for the run (and dropped after it), its own `REDIS_KEY_PREFIX` ' +
      '(Redis DB 14), `THROTTLE_LIMIT` and `THROTTLE_LOGIN_LIMIT` raised to 10⁹ (the rate-limit guard still runs and still counts every request: in process, ' +
      'sent to Redis in batches every 100 ms, as the default limit always is far from its limit), ' +
      '`SESSION_BINDING=off`, `SESSION_MAX_PER_USER=1000000` (for the refresh pool), `SESSION_ACCESS_TTL=86400` (no token expires mid-run), ' +
      '`SESSION_CLEANUP_INTERVAL=0` and `LOG_LEVEL=warn` (no line per request, like the peer); everything else at its default (cookies on, helmet, metrics, the JSON-only and safety middleware).',
    ...input.servers.map((s) => `  - \`${s.name}\`: ${s.adapter}, ${s.describe}`),
    `- L1 check before measuring (12 validations over ~2.4 s, then \`OBJECT IDLETIME\` of the session's Redis key: ≥ 2 s means the L1 answered): ${
      Object.entries(input.l1)
        .map(([name, c]) => `\`${name}\` idle ${c.idleSeconds ?? '?'} s → L1 ${c.l1 === null ? 'unknown' : c.l1 ? 'on' : 'off'}`)
        .join(', ') || 'not run'
    }.`,
    '- With Redis unreachable the app validates every request from PostgreSQL: the in-process L1 is only trusted while the Redis invalidation channel is healthy, so it is off too; rate limits fall back to in-process counters.',
    `- Load: autocannon ${f.versions.autocannon} in a separate process (\`bench/load-driver.ts\`), ${CONNECTIONS} keep-alive connections, no pipelining. ` +
      `Latencies are taken from autocannon's per-response times (floating-point ms), only 2xx answers; requests per second count 2xx answers over the run's wall time.`,
    (() => {
      const runs = summaries.flatMap((s) => s.rounds);
      const waited = runs.reduce((a, m) => a + Math.max(0, m.quiet.waited), 0);
      const loud = runs.filter((m) => m.quiet.foreign !== null && m.quiet.foreign > QUIET_CORES).length;
      return (
        `- Before each measured run the script samples the machine for 0.5 s and waits (up to ${QUIET_MAX_WAIT} s per run, ${QUIET_BUDGET} s in all) until processes other than ` +
        `the benchmark's use less than ${QUIET_CORES} core: this run waited ${waited.toFixed(1)} s in all, and ${loud} of ${runs.length} measured runs started with other processes still busy.`
      );
    })(),
    `- Every server is started once and stays up; only one is under load at a time (the idle ones used ${pct(
      mean(summaries.flatMap((s) => s.rounds.map((m) => m.cpu.idleServers))),
    )} of a core together, on average, while another was measured). ` +
      `Each scenario gets ${WARMUP} s of warm-up, then ${ROUNDS} measured rounds of ${SECONDS} s; each round runs every scenario once, ` +
      'in a fixed order that puts the scenarios a target compares next to each other, forward in odd rounds and backward in even ones (ABBA), so drift hits both sides alike.',
    '- Guarded scenarios send one session\'s `Authorization: Bearer` token (the peer: its signed `connect.sid` cookie) on every request. ' +
      '`POST /auth/refresh` rotates: every request takes a refresh token from a pool of sessions logged in before the run, and each 200 puts the new token back, so each connection follows its own chain of rotations (a 401 would show in the notes).',
    '- The peer (`bench/peer/express-session-app.ts`, run with ts-node in transpile-only mode) is NestJS on Express with express-session + connect-redis as their READMEs configure them ' +
      '(`resave: false`, `saveUninitialized: false`, default store TTL and touch: a `GET` and an `EXPIRE` per request) and a Nest guard that checks `req.session.userId`. ' +
      'Nothing else: no helmet, no rate limit, no metrics.',
    '',
    ...analysis(),
    '## Scale',
    '',
    input.scale,
    '',
  );
  return lines.join('\n');
}

/** The hand-written analysis of what limits the targets (bench/ANALYSIS.md), when present. */
function analysis(): string[] {
  const path = join(__dirname, 'ANALYSIS.md');
  return existsSync(path) ? [readFileSync(path, 'utf8').trimEnd(), ''] : [];
}

// ------------------------------------------------------------------ main

async function runScale(): Promise<string> {
  const path = join(__dirname, 'scale.ts');
  if (!existsSync(path)) return 'not run (bench/scale.ts does not exist yet).';
  if (!RUN_SCALE) return 'not run (set `BENCH_SCALE=1` to include it; it takes minutes).';
  out('bench: BENCH_SCALE=1: running bench/scale.ts …');
  // A path the type checker does not follow, so this file compiles whether or not scale.ts exists.
  const modulePath: string = path;
  const scale = (await import(modulePath)) as { runScaleBench?: () => Promise<{ markdown: string; ok: boolean }> };
  if (typeof scale.runScaleBench !== 'function') return 'not run (bench/scale.ts exports no `runScaleBench`).';
  const { markdown: md, ok } = await scale.runScaleBench();
  out(`bench: scale benchmark ${ok ? 'passed' : 'FAILED'}`);
  return md;
}

async function cleanUp(redis: Redis): Promise<string[]> {
  const warnings: string[] = [];
  const pg = new Client({ connectionString: SERVER_DATABASE_URL });
  try {
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  } catch (error) {
    warnings.push(`DROP DATABASE ${DATABASE}: ${(error as Error).message}`);
  } finally {
    await pg.end().catch(() => undefined);
  }
  try {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${TAG}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    out(`bench: clean-up: database ${DATABASE} dropped, ${deleted} Redis keys deleted`);
  } catch (error) {
    warnings.push(`Redis clean-up: ${(error as Error).message}`);
  }
  return warnings;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const build = ensureBuild();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const servers: Server[] = [];
  let driver: Driver | undefined;
  let cleaned = false;
  const finish = async () => {
    driver?.stop();
    await Promise.all(servers.map(stopServer));
    if (!cleaned) {
      cleaned = true;
      for (const w of await cleanUp(redis)) console.warn(`bench: ${w}`);
    }
  };
  process.once('SIGINT', () => {
    servers.forEach((s) => s.child.kill('SIGKILL'));
    driver?.stop();
    void (cleaned ? Promise.resolve() : cleanUp(redis)).finally(() => process.exit(130));
  });
  try {
    const machine = await facts(redis);
    const all = scenarios();
    const chosen = ONLY ? all.filter((s) => ONLY.includes(s.id)) : all;
    if (chosen.length === 0) throw new Error(`BENCH_ONLY matches no scenario; ids: ${all.map((s) => s.id).join(', ')}`);
    const closedPort = await freePort();
    const wanted = specs(closedPort).filter((spec) => chosen.some((s) => s.server === spec.name));
    const refreshRuns = ROUNDS + 1;

    out(
      `bench ${TAG}: ${chosen.length} scenarios on ${wanted.length} servers; ${WARMUP} s warm-up + ${ROUNDS} × ${SECONDS} s each, ${CONNECTIONS} connections; ` +
        `${machine.machine.cores} cores (${machine.machine.model}), load average ${machine.machine.loadAverageAtStart.join(' ')}`,
    );
    await new Client({ connectionString: SERVER_DATABASE_URL }).connect().then(async (pg) => {
      try {
        await pg.query(`CREATE DATABASE "${DATABASE}"`);
      } finally {
        await pg.end();
      }
    });
    // The first app migrates the fresh database; the others start together once it is up.
    const appSpecs = wanted.filter((s) => s.kind === 'app');
    const first = appSpecs[0] ?? wanted[0];
    const firstServer = await startServer(first);
    servers.push(firstServer);
    await waitUp(firstServer);
    // better-auth migrates its own tables at start: its first server runs alone too, or two
    // would race to create them.
    const firstBetterAuth = wanted.find((s) => s.kind === 'better-auth' && s !== first);
    if (firstBetterAuth) {
      const server = await startServer(firstBetterAuth);
      servers.push(server);
      await waitUp(server);
    }
    // The rest in batches: two cores starting twenty Node processes at once would time out.
    const rest = wanted.filter((s) => s !== first && s !== firstBetterAuth);
    for (let i = 0; i < rest.length; i += 6) {
      const batch = await Promise.all(rest.slice(i, i + 6).map(startServer));
      servers.push(...batch);
      await Promise.all(batch.map(waitUp));
    }
    const byName = new Map(servers.map((s) => [s.name, s]));
    out(`bench: servers up: ${servers.map((s) => `${s.name} :${s.port} (pid ${s.child.pid})`).join(', ')}`);

    // Sessions: one per server for the guarded routes; a pool for each server that is refreshed.
    const loginStart = Date.now();
    await Promise.all(
      servers.map((server) => {
        const refreshed = chosen.some((s) => s.kind === 'refresh' && s.server === server.name);
        const login = chosen.some((s) => s.kind === 'login' && s.server === server.name);
        return prepareServer(server, refreshed ? refreshRuns * CONNECTIONS + REFRESH_SPARE : 0, login);
      }),
    );
    out(`bench: sessions ready in ${((Date.now() - loginStart) / 1000).toFixed(1)} s`);

    // Every scenario must answer 200 before it is measured.
    for (const scenario of chosen) {
      const server = byName.get(scenario.server)!;
      if (scenario.kind === 'refresh') continue;
      const headers: Record<string, string> = scenario.kind === 'secure' ? { [server.auth!.header]: server.auth!.value } : {};
      const body = scenario.kind === 'login' ? loginBody(server) : undefined;
      const res = await request(server, scenario.method, scenario.path, { headers, body });
      const okBody =
        scenario.kind === 'open'
          ? res.body?.ok === true
          : scenario.kind === 'login'
            ? typeof res.body?.user?.id === 'string'
            : res.body?.ok === true && res.body?.userId === server.auth!.userId;
      if (res.status !== 200 || !okBody) throw new Error(`${scenario.id}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const l1: Record<string, { idleSeconds: number | null; l1: boolean | null }> = {};
    await Promise.all(
      servers
        .filter((s) => s.kind === 'app' && !s.name.endsWith('-noredis') && chosen.some((c) => c.server === s.name && c.kind === 'secure'))
        .map(async (server) => {
          l1[server.name] = await l1Check(server, redis);
        }),
    );
    for (const [name, check] of Object.entries(l1)) {
      const expected = !name.endsWith('-nol1');
      const line = `bench: ${name}: session key idle ${check.idleSeconds ?? '?'} s after 12 validations → L1 ${check.l1 === null ? 'unknown' : check.l1 ? 'on' : 'off'}`;
      if (check.l1 !== null && check.l1 !== expected) {
        console.warn(`${line} — EXPECTED L1 ${expected ? 'on' : 'off'}${expected ? '' : ' (does this build read SESSION_LOCAL_CACHE_TTL?)'}`);
      } else {
        out(line);
      }
    }
    const memory = await redisMemory(byName.get('express') ?? byName.get('fastify'), byName.get('peer'), redis);

    driver = new Driver();
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]) || undefined;
    const measured = new Map<string, Measurement[]>(chosen.map((s) => [s.id, []]));
    const runOne = async (scenario: Scenario, seconds: number, label: string, roundIndex: number) => {
      const server = byName.get(scenario.server)!;
      if (!alive(server)) throw new Error(`server ${server.name} died:\n${server.output.slice(-3000)}`);
      const { result, quiet, ...cpu } = await measure(driver!, scenario, server, servers.filter((s) => s !== server), seconds, redisPid, roundIndex >= 0);
      const disturbed = cpu.rest !== null && cpu.rest > DISTURBED_CORES;
      const problems = problemsOf(result);
      out(
        `${label.padEnd(10)} ${scenario.id.padEnd(24)} ${fmtInt(result.rps).padStart(7)} req/s  p50 ${fmtMs(result.latency.p50).padEnd(9)} p99 ${fmtMs(
          result.latency.p99,
        ).padEnd(9)} server CPU ${Math.round(cpu.server * 100)}%, load-gen ${Math.round(cpu.driver * 100)}%${cpu.redis === null ? '' : `, Redis ${Math.round(cpu.redis * 100)}%`}, PostgreSQL ${Math.round(cpu.postgres * 100)}%${
          cpu.rest === null ? '' : `, other ${Math.round(cpu.rest * 100)}%${disturbed ? ' DISTURBED' : ''}`
        }${quiet.waited >= 0.5 ? ` (waited ${quiet.waited.toFixed(1)} s for a quiet machine)` : ''}` +
          (problems.length ? `  ⚠ ${problems.join('; ')}` : ''),
      );
      if (roundIndex >= 0) measured.get(scenario.id)!.push({ round: roundIndex, result, cpu, quiet, disturbed });
    };
    const sequence = [...chosen].sort((a, b) => MEASURE_ORDER.indexOf(a.id) - MEASURE_ORDER.indexOf(b.id));
    for (const scenario of sequence) await runOne(scenario, WARMUP, 'warm-up', -1);
    for (let r = 0; r < ROUNDS; r++) {
      // ABBA: forward, then backward, so that neighbours stay neighbours and drift cancels out.
      const order = r % 2 === 0 ? sequence : [...sequence].reverse();
      for (const scenario of order) if (scenario.rounds === undefined || r < scenario.rounds) await runOne(scenario, SECONDS, `round ${r + 1}/${ROUNDS}`, r);
    }
    driver.stop();
    driver = undefined;

    const summaries = chosen.map((s) => summarize(s, measured.get(s.id)!));
    const byId = new Map(summaries.map((s) => [s.scenario.id, s]));
    await finish();
    const wantsHashes = chosen.some((s) => s.kind === 'login');
    const hashes = wantsHashes ? await passwordHashCosts().catch((error: Error) => (console.warn(`bench: password check timing: ${error.message}`), null)) : null;
    for (const h of hashes ?? []) out(`bench: one password check: ${fmtInt(h.cpuUs)} µs CPU, ${fmtInt(h.wallUs)} µs wall (${h.checks} checks; ${h.algorithm})`);
    const goals = targets(byId, memory, hashes);
    const scale = await runScale().catch((error: Error) => `failed: ${error.message}`);

    // Chart, report, raw data.
    const rows: BarRow[] = summaries.map((s) => ({
      label: s.scenario.label,
      group: s.scenario.group,
      value: s.rps,
      min: s.rpsMin,
      max: s.rpsMax,
      note: `p50 ${fmtMs(s.p50)} · p99 ${fmtMs(s.p99)}`,
    }));
    const svg = barChartSvg(rows, {
      title: 'Requests per second (higher is better)',
      subtitle: `${machine.machine.cores} cores, ${CONNECTIONS} connections, median of ${ROUNDS} × ${SECONDS} s; whiskers: min–max of the rounds used`,
      unit: 'requests per second',
      colors: { express: '#2f6fb3', fastify: '#d9822b', 'express-session (peer)': '#7f8c8d' },
    });
    writeFileSync(join(ROOT, 'bench', 'results.svg'), svg);
    const wallSeconds = (Date.now() - startedAt.getTime()) / 1000;
    const report = markdown({
      summaries,
      targets: goals,
      memory,
      facts: machine,
      build,
      servers: wanted,
      l1,
      scale,
      startedAt,
      wallSeconds,
      partial: Boolean(ONLY),
      hashes,
    });
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), report + capacitySection());
    writeFileSync(
      join(ROOT, 'bench', 'results.json'),
      `${JSON.stringify(
        {
          tag: TAG,
          startedAt: startedAt.toISOString(),
          settings: { seconds: SECONDS, rounds: ROUNDS, warmup: WARMUP, connections: CONNECTIONS, only: ONLY ?? null },
          ...machine,
          build,
          l1,
          memory,
          passwordChecks: hashes,
          targets: goals,
          scenarios: summaries.map((s) => ({
            id: s.scenario.id,
            label: s.scenario.label,
            rps: round(s.rps, 1),
            rpsMin: round(s.rpsMin, 1),
            rpsMax: round(s.rpsMax, 1),
            p50: round(s.p50, 3),
            p99: round(s.p99, 3),
            problems: s.problems,
            rounds: s.rounds.map((m) => ({ round: m.round + 1, disturbed: m.disturbed, quiet: m.quiet, cpu: m.cpu, ...m.result })),
          })),
        },
        null,
        2,
      )}\n`,
    );

    out();
    out('scenario                                   req/s        p50        p99');
    for (const s of summaries) {
      out(`${s.scenario.label.padEnd(40)} ${fmtInt(s.rps).padStart(8)} ${fmtMs(s.p50).padStart(10)} ${fmtMs(s.p99).padStart(10)}${s.problems.length ? `  ⚠ ${s.problems.join('; ')}` : ''}`);
    }
    out();
    for (const t of goals) {
      const state = t.target === '(none)' ? 'no target' : t.met === null ? 'not measured' : t.unresolved ? 'UNRESOLVED (within noise)' : t.met ? 'met' : 'NOT MET';
      out(`${t.name}: ${t.display} (target ${t.target}) → ${state}; ${t.basis}`);
    }
    out();
    out(`bench: wrote ${relative(process.cwd(), join(ROOT, 'BENCHMARKS.md')) || 'BENCHMARKS.md'}, bench/results.svg, bench/results.json in ${Math.round(wallSeconds)} s`);
    return summaries.some((s) => s.problems.length) ? 1 : 0;
  } finally {
    await finish().catch((error: Error) => console.warn(`bench: clean-up: ${error.message}`));
    redis.disconnect();
  }
}

// ------------------------------------------------------------------ capacity (issue 15)

/**
 * bench/capacity.md, written by `npm run bench:capacity` (its own run, dated inside), appended as
 * its own section when it exists; nothing otherwise.
 */
function capacitySection(): string {
  const path = join(__dirname, 'capacity.md');
  if (!existsSync(path)) return '';
  return `\n${readFileSync(path, 'utf8').trimEnd()}\n`;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
