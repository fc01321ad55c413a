/**
 * Soak: two instances of the compiled app share one PostgreSQL and one Redis, and a bounded set
 * of virtual users drives mixed traffic at them for SOAK_SECONDS: register + login, validation
 * (`GET /ping/secure`, most of the traffic), refresh, listing sessions, logout, and revocation from
 * the *other* instance followed by polling the revoked token on both instances (the cross-instance
 * revocation lag). Every request goes to 127.0.0.1.
 *
 *   npm run build && npm run soak            # builds nothing itself: runs dist/main.js
 *   SOAK_SECONDS=20 SOAK_VUS=20 npm run soak
 *
 * Environment: SOAK_SECONDS (60), SOAK_VUS (20), SOAK_APP (dist/main.js; any compiled entry),
 * TEST_DATABASE_URL, TEST_REDIS_URL (the test servers' defaults), SOAK_SHARED_DATABASE.
 *
 * Both instances use one database on the TEST_DATABASE_URL server: by default a fresh one made for
 * the run (`CREATE DATABASE soak_…`, migrated by the first instance, dropped at the end), because
 * the e2e suites TRUNCATE the shared test database's tables whenever someone runs them, which
 * would make logins fail mid-soak. SOAK_SHARED_DATABASE=1 uses TEST_DATABASE_URL's database itself
 * (rows are then deleted by the run's unique email domain). Redis is TEST_REDIS_URL, under a key
 * prefix of the run's own.
 *
 * Prints requests by route and status, errors (5xx, connection errors, unexpected statuses),
 * revocation lag p50/p99/max, latency p50/p99 per route and each instance's RSS (VmRSS from
 * /proc/<pid>/status) after warm-up versus at the end, then one JSON line with all of it.
 * Exits 1 on any 5xx, unexpected status, connection error, revocation not seen on both instances
 * within 5 s, or instance that died; 2 when it could not run at all.
 *
 * Clean-up: the instances get SIGTERM (SIGKILL after 10 s); the run's database is dropped (or, when
 * shared, its users and their sessions deleted) and every Redis key under its prefix is deleted.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { freePort } from './local-http';

const ROOT = resolve(__dirname, '..');
const SERVER_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SHARED_DATABASE = ['1', 'true', 'yes'].includes(String(process.env.SOAK_SHARED_DATABASE).toLowerCase());
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const VUS = Number(process.env.SOAK_VUS ?? 20);
const APP = resolve(ROOT, process.env.SOAK_APP ?? 'dist/main.js');
/** Traffic before the baseline RSS sample: the first quarter, at most 5 s. */
const WARMUP_MS = Math.min(5000, (SECONDS * 1000) / 4);
const REVOCATION_CAP_MS = 5000;
const REVOCATION_POLL_MS = 2;
const PASSWORD = 'soak password 0123';

const TAG = `soak${randomBytes(4).toString('hex')}`;
const EMAIL_DOMAIN = `${TAG}.soak.test`;
const KEY_PREFIX = `${TAG}:`;
const SECRET = `soak-secret-${randomBytes(24).toString('hex')}`;
const PRIVATE_DATABASE = `soak_${TAG.slice(4)}`;
/** The database both instances use. */
const DATABASE_URL = (() => {
  if (SHARED_DATABASE) return SERVER_DATABASE_URL;
  const url = new URL(SERVER_DATABASE_URL);
  url.pathname = `/${PRIVATE_DATABASE}`;
  return url.toString();
})();

async function onServer<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: SERVER_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

// ---------------------------------------------------------------- instances

interface Instance {
  name: string;
  port: number;
  child: ChildProcess;
  agent: http.Agent;
  output: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit?: { code: number | null; signal: NodeJS.Signals | null; afterMs: number };
  rss: { warm?: number; end?: number; peak: number };
}


function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

async function startInstance(name: string): Promise<Instance> {
  const port = await freePort();
  const databaseUrl = new URL(DATABASE_URL);
  databaseUrl.searchParams.set('application_name', `${TAG}-${name}`);
  const child = spawn(process.execPath, [APP], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL,
      SESSION_SECRET: SECRET,
      REDIS_KEY_PREFIX: KEY_PREFIX,
      THROTTLE_LIMIT: '1000000000',
      THROTTLE_LOGIN_LIMIT: '1000000000',
      SESSION_BINDING: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const instance: Instance = {
    name,
    port,
    child,
    agent: new http.Agent({ keepAlive: true, maxSockets: VUS * 2 }),
    output: '',
    exited: new Promise((done) => child.once('exit', (code, signal) => done({ code, signal }))),
    rss: { peak: 0 },
  };
  child.stdout!.on('data', (chunk) => (instance.output += chunk));
  child.stderr!.on('data', (chunk) => (instance.output += chunk));
  return instance;
}

async function waitUp(instance: Instance): Promise<void> {
  const by = Date.now() + 30_000;
  while (Date.now() < by) {
    if (instance.child.exitCode !== null || instance.child.signalCode !== null) break;
    const ok = await new Promise<boolean>((done) => {
      const req = http.get({ host: '127.0.0.1', port: instance.port, path: '/ping', agent: false }, (res) => {
        res.resume();
        done(res.statusCode === 200);
      });
      req.on('error', () => done(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`instance ${instance.name} did not come up:\n${instance.output.slice(-3000)}`);
}

async function stopInstance(instance: Instance): Promise<void> {
  instance.agent.destroy();
  if (instance.child.exitCode !== null || instance.child.signalCode !== null) {
    const { code, signal } = await instance.exited;
    instance.exit = { code, signal, afterMs: -1 };
    return;
  }
  const started = Date.now();
  instance.child.kill('SIGTERM');
  const exit = await Promise.race([instance.exited, sleep(10_000).then(() => null)]);
  if (exit) {
    instance.exit = { ...exit, afterMs: Date.now() - started };
  } else {
    instance.child.kill('SIGKILL');
    instance.exit = { ...(await instance.exited), afterMs: Date.now() - started };
  }
}

// ---------------------------------------------------------------- traffic and statistics

interface RouteStats {
  statuses: Record<string, number>;
  latencies: number[];
}

const routes = new Map<string, RouteStats>();
const problems = {
  serverErrors: 0,
  unexpected: 0,
  connectionErrors: {} as Record<string, number>,
  revocationsNotSeen: 0,
  examples: [] as string[],
};
type EndKind = 'revoke' | 'logout';
const END_KINDS: readonly EndKind[] = ['revoke', 'logout'];
/** Per kind of ending: ms from its answer until both instances had answered 401. */
const revocationLags: Record<EndKind, number[]> = { revoke: [], logout: [] };
/** Validations answered 200 after the revoke (logout) answer came back, before both said 401. */
const staleAccepts: Record<EndKind, number> = { revoke: 0, logout: 0 };
/** Endings where the very first poll on each instance already answered 401. */
const rejectedAtFirstPoll: Record<EndKind, number> = { revoke: 0, logout: 0 };
const answersByInstance: Record<string, number> = {};

function note(example: string): void {
  if (problems.examples.length < 20) problems.examples.push(example);
}

function routeStats(route: string): RouteStats {
  let stats = routes.get(route);
  if (!stats) routes.set(route, (stats = { statuses: {}, latencies: [] }));
  return stats;
}

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * One request, recorded under `route`. Returns null for a connection error, and the answer
 * otherwise; a status outside `expected` is counted as unexpected (a 5xx also as a server error).
 */
function call(
  instance: Instance,
  route: string,
  method: string,
  path: string,
  expected: readonly number[],
  options: { token?: string; body?: unknown } = {},
): Promise<Answer | null> {
  const stats = routeStats(route);
  const data = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = { 'user-agent': 'soak/1.0' };
  if (data) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(data);
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const started = performance.now();
  return new Promise((done) => {
    const req = http.request(
      { host: '127.0.0.1', port: instance.port, method, path, agent: instance.agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) => failed(error));
        res.on('end', () => {
          stats.latencies.push(performance.now() - started);
          answersByInstance[instance.name] = (answersByInstance[instance.name] ?? 0) + 1;
          const status = res.statusCode ?? 0;
          stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (/json/.test(String(res.headers['content-type']))) {
            try {
              body = JSON.parse(text);
            } catch {
              // leave the text
            }
          }
          if (status >= 500) problems.serverErrors++;
          if (!expected.includes(status)) {
            problems.unexpected++;
            note(`${instance.name} ${route}: ${status} (expected ${expected.join('/')}) ${text.slice(0, 200)}`);
          }
          done({ status, body });
        });
      },
    );
    const failed = (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.message;
      problems.connectionErrors[code] = (problems.connectionErrors[code] ?? 0) + 1;
      stats.statuses[code] = (stats.statuses[code] ?? 0) + 1;
      note(`${instance.name} ${route}: connection error ${code}`);
      done(null);
    };
    req.on('error', failed);
    req.end(data);
  });
}

interface Session {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

const asSession = (body: { accessToken: string; refreshToken: string; sessionId: string }): Session => ({
  accessToken: body.accessToken,
  refreshToken: body.refreshToken,
  sessionId: body.sessionId,
});

let userCounter = 0;

async function register(instance: Instance): Promise<string | null> {
  const email = `u${userCounter++}-${randomBytes(3).toString('hex')}@${EMAIL_DOMAIN}`;
  const res = await call(instance, 'POST /auth/register', 'POST', '/auth/register', [201], {
    body: { email, password: PASSWORD },
  });
  return res?.status === 201 ? email : null;
}

async function login(instance: Instance, email: string): Promise<Session | null> {
  const res = await call(instance, 'POST /auth/login', 'POST', '/auth/login', [200], {
    body: { email, password: PASSWORD },
  });
  return res?.status === 200 ? asSession(res.body) : null;
}

/**
 * Polls the ended session's access token on both instances every few ms until each has answered
 * 401, and records the lag: from the revoke (logout) answer to the moment the later of the two
 * first 401s came back, so it includes one round trip. 200s meanwhile are counted as stale accepts.
 */
async function measureRevocation(kind: EndKind, instances: Instance[], token: string, revokedAt: number): Promise<void> {
  const route = kind === 'revoke' ? 'GET /ping/secure (revoked token)' : 'GET /ping/secure (after logout)';
  const rejectedAt = new Map<Instance, number>();
  let polls = 0;
  while (rejectedAt.size < instances.length && performance.now() - revokedAt < REVOCATION_CAP_MS) {
    await Promise.all(
      instances
        .filter((instance) => !rejectedAt.has(instance))
        .map(async (instance) => {
          const res = await call(instance, route, 'GET', '/ping/secure', [200, 401], { token });
          if (res?.status === 401) rejectedAt.set(instance, performance.now());
          else if (res?.status === 200) staleAccepts[kind]++;
        }),
    );
    polls++;
    if (rejectedAt.size < instances.length) await sleep(REVOCATION_POLL_MS);
  }
  if (rejectedAt.size < instances.length) {
    problems.revocationsNotSeen++;
    note(`${kind}: token still accepted after ${REVOCATION_CAP_MS} ms`);
    return;
  }
  if (polls === 1) rejectedAtFirstPoll[kind]++;
  revocationLags[kind].push(Math.max(...rejectedAt.values()) - revokedAt);
}

/** One virtual user: a user of its own, then journeys until the deadline. */
async function virtualUser(instances: Instance[], stopAt: number): Promise<void> {
  const running = () => Date.now() < stopAt;
  let email: string | null = null;
  let session: Session | null = null;
  while (running()) {
    if (!email || Math.random() < 0.05) {
      email = (await register(pick(instances))) ?? email;
      session = null;
      if (!email) {
        await sleep(100);
        continue;
      }
    }
    if (!session) {
      session = await login(pick(instances), email);
      if (!session) {
        await sleep(100);
        continue;
      }
    }
    // Mostly validation; now and then a refresh or a look at the session list.
    for (let round = 0; round < 4 && session && running(); round++) {
      for (let i = 0; i < 15 && running(); i++) {
        const res = await call(pick(instances), 'GET /ping/secure', 'GET', '/ping/secure', [200], { token: session.accessToken });
        if (res?.status !== 200) {
          session = null;
          break;
        }
      }
      if (!session || !running()) break;
      if (Math.random() < 0.3) {
        const res = await call(pick(instances), 'POST /auth/refresh', 'POST', '/auth/refresh', [200], {
          body: { refreshToken: session.refreshToken },
        });
        session = res?.status === 200 ? asSession(res.body) : null;
      } else if (Math.random() < 0.4) {
        await call(pick(instances), 'GET /auth/sessions', 'GET', '/auth/sessions', [200], { token: session.accessToken });
      }
    }
    if (!session || !running()) continue;
    const [here, there] = Math.random() < 0.5 ? instances : [...instances].reverse();
    if (Math.random() < 0.5) {
      // Logout on one instance; then both must refuse the token.
      const res = await call(here, 'POST /auth/logout', 'POST', '/auth/logout', [204], { token: session.accessToken });
      if (res?.status === 204) await measureRevocation('logout', instances, session.accessToken, performance.now());
      session = null;
    } else {
      // The session is in use on one instance; a second session revokes it from the other
      // instance, and the revoked token is polled on both.
      const inUse = await call(here, 'GET /ping/secure', 'GET', '/ping/secure', [200], { token: session.accessToken });
      if (inUse?.status !== 200) {
        session = null;
        continue;
      }
      const second = await login(there, email);
      if (!second) continue;
      const revoked = session;
      session = second;
      const res = await call(there, 'DELETE /auth/sessions/:id', 'DELETE', `/auth/sessions/${revoked.sessionId}`, [204], {
        token: second.accessToken,
      });
      if (res?.status === 204) await measureRevocation('revoke', instances, revoked.accessToken, performance.now());
    }
  }
}

// ---------------------------------------------------------------- report

function percentile(samples: number[], q: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const ms = (value: number | null) => (value === null ? '-' : `${value.toFixed(1)} ms`);
const mb = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 1048576).toFixed(1)} MB`);
const round = (value: number | null, digits = 2) => (value === null ? null : Number(value.toFixed(digits)));

interface CleanUp {
  database: string;
  users: number;
  sessions: number;
  redisKeys: number;
  warnings: string[];
}

async function cleanUp(): Promise<CleanUp> {
  const result: CleanUp = {
    database: SHARED_DATABASE ? 'shared: rows deleted' : `${PRIVATE_DATABASE} dropped`,
    users: 0,
    sessions: 0,
    redisKeys: 0,
    warnings: [],
  };
  const pg = new Client({ connectionString: DATABASE_URL });
  try {
    await pg.connect();
    const like = `%@${EMAIL_DOMAIN}`;
    const verb = SHARED_DATABASE ? 'DELETE' : 'SELECT count(*) AS n';
    const sessions = await pg.query(`${verb} FROM sessions WHERE user_id IN (SELECT id::text FROM users WHERE email LIKE $1)`, [like]);
    const users = await pg.query(`${verb} FROM users WHERE email LIKE $1`, [like]);
    result.sessions = SHARED_DATABASE ? (sessions.rowCount ?? 0) : Number(sessions.rows[0].n);
    result.users = SHARED_DATABASE ? (users.rowCount ?? 0) : Number(users.rows[0].n);
  } catch (error) {
    result.warnings.push(`PostgreSQL clean-up: ${(error as Error).message}`);
  } finally {
    await pg.end().catch(() => undefined);
  }
  if (!SHARED_DATABASE) {
    await onServer((client) => client.query(`DROP DATABASE IF EXISTS "${PRIVATE_DATABASE}" WITH (FORCE)`)).catch(
      (error: Error) => result.warnings.push(`DROP DATABASE ${PRIVATE_DATABASE}: ${error.message}`),
    );
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) result.redisKeys += await redis.del(...keys);
    } while (cursor !== '0');
  } catch (error) {
    result.warnings.push(`Redis clean-up: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
  return result;
}

async function main(): Promise<number> {
  if (!existsSync(APP)) {
    console.error(`soak: ${APP} does not exist; run \`npm run build\` first (or set SOAK_APP to a compiled main.js).`);
    return 2;
  }
  const stale = statSync(APP).mtimeMs < newestSourceMtime(join(ROOT, 'src'));
  if (stale) console.warn(`soak: ${APP} is older than src/: this soaks the last build, not the current code.`);
  if (!(SECONDS > 0) || !(VUS > 0)) {
    console.error('soak: SOAK_SECONDS and SOAK_VUS must be positive numbers');
    return 2;
  }

  const instances: Instance[] = [];
  const stopChildren = () => instances.forEach((instance) => instance.child.kill('SIGKILL'));
  process.once('SIGINT', () => {
    stopChildren();
    void cleanUp().finally(() => process.exit(130));
  });
  let cleanup: CleanUp | undefined;
  const startedAt = Date.now();
  try {
    if (!SHARED_DATABASE) await onServer((client) => client.query(`CREATE DATABASE "${PRIVATE_DATABASE}"`));
    // One after the other: the first runs the migrations (on a fresh database) before the second starts.
    for (const name of ['A', 'B']) {
      const instance = await startInstance(name);
      instances.push(instance);
      await waitUp(instance);
    }
    out(`soak ${TAG}: database ${SHARED_DATABASE ? 'shared' : PRIVATE_DATABASE}, instances A :${instances[0].port} (pid ${instances[0].child.pid}) and B :${instances[1].port} (pid ${instances[1].child.pid}), ${VUS} virtual users, ${SECONDS} s (warm-up ${WARMUP_MS / 1000} s)`);

    const trafficStart = Date.now();
    const stopAt = trafficStart + SECONDS * 1000;
    const sampler = setInterval(() => {
      for (const instance of instances) {
        const rss = rssBytes(instance.child.pid);
        if (rss !== undefined) instance.rss.peak = Math.max(instance.rss.peak, rss);
      }
    }, 500);
    const warm = setTimeout(() => {
      for (const instance of instances) instance.rss.warm = rssBytes(instance.child.pid);
    }, WARMUP_MS);
    await Promise.all(Array.from({ length: VUS }, () => virtualUser(instances, stopAt)));
    const trafficMs = Date.now() - trafficStart;
    clearInterval(sampler);
    clearTimeout(warm);
    for (const instance of instances) {
      instance.rss.end = rssBytes(instance.child.pid);
      if (instance.child.exitCode !== null || instance.child.signalCode !== null) {
        note(`instance ${instance.name} died during the soak`);
      }
    }

    // ------------------------------------------------------------ report
    const total = [...routes.values()].reduce((n, r) => n + r.latencies.length, 0);
    out();
    out(
      `${total} answers in ${(trafficMs / 1000).toFixed(1)} s (${(total / (trafficMs / 1000)).toFixed(0)}/s); ` +
        `by instance: ${Object.entries(answersByInstance).map(([name, n]) => `${name} ${n}`).join(', ')}`,
    );
    out();
    out('route                                 answers    p50        p99        statuses');
    const routeReport: Record<string, { count: number; statuses: Record<string, number>; p50: number | null; p99: number | null }> = {};
    for (const [route, stats] of [...routes.entries()].sort()) {
      const p50 = percentile(stats.latencies, 0.5);
      const p99 = percentile(stats.latencies, 0.99);
      routeReport[route] = { count: stats.latencies.length, statuses: stats.statuses, p50: round(p50), p99: round(p99) };
      out(
        `${route.padEnd(38)}${String(stats.latencies.length).padStart(7)}    ${ms(p50).padEnd(11)}${ms(p99).padEnd(11)}${Object.entries(stats.statuses)
          .map(([status, n]) => `${status}×${n}`)
          .join(' ')}`,
      );
    }
    const lag: Record<string, unknown> = { notSeenWithin5s: problems.revocationsNotSeen };
    out();
    for (const kind of END_KINDS) {
      const samples = revocationLags[kind];
      const k = {
        count: samples.length,
        p50: round(percentile(samples, 0.5)),
        p99: round(percentile(samples, 0.99)),
        max: round(samples.length ? Math.max(...samples) : null),
        rejectedAtFirstPoll: rejectedAtFirstPoll[kind],
        staleAccepts: staleAccepts[kind],
      };
      lag[kind] = k;
      out(
        `${kind === 'revoke' ? 'revocation from the other instance' : 'logout'}: lag until both instances answer 401 ` +
          `(from the ${kind} answer, incl. one round trip) n=${k.count} p50 ${ms(k.p50)}, p99 ${ms(k.p99)}, max ${ms(k.max)}; ` +
          `401 on both at the first poll ${k.rejectedAtFirstPoll}/${k.count}; 200s after the ${kind} answer ${k.staleAccepts}`,
      );
    }
    out(`ended sessions still accepted after ${REVOCATION_CAP_MS / 1000} s: ${problems.revocationsNotSeen}`);

    for (const instance of instances) await stopInstance(instance);
    const memory: Record<string, unknown> = {};
    out();
    for (const instance of instances) {
      const { warm: w, end, peak } = instance.rss;
      const growth = w !== undefined && end !== undefined ? end - w : undefined;
      memory[instance.name] = {
        pid: instance.child.pid,
        rssWarmMB: w === undefined ? null : round(w / 1048576, 1),
        rssEndMB: end === undefined ? null : round(end / 1048576, 1),
        rssPeakMB: round(peak / 1048576, 1),
        growthMB: growth === undefined ? null : round(growth / 1048576, 1),
        growthPercent: growth === undefined || !w ? null : round((growth / w) * 100, 1),
        errorLogLines: instance.output.split('\n').filter((line) => /\bERROR\b/.test(line)).length,
        exit: instance.exit,
      };
      out(
        `instance ${instance.name}: RSS after warm-up ${mb(w)}, at end ${mb(end)} (${growth === undefined ? '-' : `${growth >= 0 ? '+' : ''}${mb(growth)}`}), peak ${mb(peak)}; ` +
          `ERROR log lines ${(memory[instance.name] as { errorLogLines: number }).errorLogLines}; ` +
          `SIGTERM → ${instance.exit?.signal ? `killed by ${instance.exit.signal}` : `exit code ${instance.exit?.code}`} after ${instance.exit?.afterMs} ms`,
      );
      for (const line of instance.output.split('\n').filter((l) => /\bERROR\b/.test(l)).slice(0, 5)) {
        out(`  ${instance.name}: ${line.replace(/\x1b\[[0-9;]*m/g, '').slice(0, 300)}`);
      }
    }

    cleanup = await cleanUp();
    const failed =
      problems.serverErrors > 0 ||
      problems.unexpected > 0 ||
      Object.keys(problems.connectionErrors).length > 0 ||
      problems.revocationsNotSeen > 0 ||
      problems.examples.some((e) => e.includes('died'));
    out();
    out(
      `errors: 5xx ${problems.serverErrors}, unexpected statuses ${problems.unexpected}, connection errors ${JSON.stringify(problems.connectionErrors)}` +
        (problems.examples.length ? `\n  ${problems.examples.join('\n  ')}` : ''),
    );
    out(
      `clean-up: ${cleanup.users} users and ${cleanup.sessions} sessions (database ${cleanup.database}), ${cleanup.redisKeys} Redis keys deleted` +
        (cleanup.warnings.length ? ` (${cleanup.warnings.join('; ')})` : ''),
    );
    out(failed ? 'RESULT: FAIL' : 'RESULT: PASS');
    out(
      JSON.stringify({
        soak: TAG,
        result: failed ? 'fail' : 'pass',
        seconds: SECONDS,
        vus: VUS,
        app: APP,
        database: SHARED_DATABASE ? 'shared' : PRIVATE_DATABASE,
        appBuildStale: stale,
        trafficMs,
        requests: total,
        requestsPerSecond: round(total / (trafficMs / 1000), 1),
        answersByInstance,
        routes: routeReport,
        errors: {
          serverErrors: problems.serverErrors,
          unexpected: problems.unexpected,
          connectionErrors: problems.connectionErrors,
          examples: problems.examples,
        },
        revocationLagMs: lag,
        memory,
        cleanup,
        wallMs: Date.now() - startedAt,
      }),
    );
    return failed ? 1 : 0;
  } finally {
    stopChildren();
    if (!cleanup) await cleanUp().catch(() => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
