import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { sql, TEST_SECRET } from '../support/app-harness';
import { compiledMain } from '../support/compiled-app';
import { freePort } from '../support/private-postgres';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env';
import { sleep } from '../support/timing';

/**
 * The issue: "On SIGTERM: stop accepting, finish in-flight requests, close pools and Redis
 * clients, exit 0 within 10 s". The compiled app runs as a child process (as `node dist/main.js`
 * does in production) and gets SIGTERM while it is busy with logins (argon2 makes each take tens
 * of milliseconds, and the thread pool queues them, so most are still running when the signal
 * lands).
 *
 * What is measured, precisely:
 * - "in flight": a login sent on a keep-alive connection that had already carried a `GET /ping`
 *   (so the server had accepted that connection and was reading it), written before SIGTERM, and
 *   not yet answered when SIGTERM was sent (the signal goes out when the first login answer
 *   arrives, i.e. while the server is provably working on the batch). Each must get a normal
 *   answer (2xx/4xx; in practice 200); a reset, a hang-up or a 5xx fails.
 * - "new connections refused": a fresh TCP connection opened after SIGTERM gets ECONNREFUSED.
 * - "kept-alive connections released": once its in-flight answer is out, the server closes each
 *   of those connections (with `Connection: close` or by closing it right away) instead of keeping
 *   it open for Node's keepAliveTimeout, during which it would also serve new requests.
 * - "exit": the process exits by itself with code 0 (not by a signal) within 10 s of SIGTERM.
 * - "no connections left": nothing in `pg_stat_activity` with the app's own `application_name`
 *   and no Redis client with the app's own connection name, after the exit.
 *
 * Logins on connections opened at the same moment as the signal (not yet read by the server) may
 * legitimately be reset when the listener closes; they are not counted as in flight.
 *
 * The app is compiled once: `dist/main.js` is used when it is newer than every file under
 * `src/`; otherwise `tsc -p tsconfig.build.json` compiles into `node_modules/.cache/` (about
 * 5 s) so the shared `dist/` (which `nest build` deletes first) is never pulled from under
 * someone else's process. `GRACEFUL_SHUTDOWN_APP` overrides the entry point.
 */
const ROOT = resolve(__dirname, '../..');
const EXIT_DEADLINE_MS = 10_000;
const LOGINS = 40;
const PASSWORD = 'correct horse battery';
const EMAIL_DOMAIN = 'graceful-shutdown.e2e.test';

interface Answer {
  status?: number;
  connection?: string;
  error?: string;
  /** when it settled: ms after SIGTERM (negative: before) */
  at: number;
}

interface Observations {
  sigtermSent: boolean;
  inFlightAtSignal: number;
  logins: Answer[];
  /** per warmed connection: ms from its in-flight answer until it was closed (null: never) */
  releaseDelays: (number | null)[];
  freshConnectionAfterSignal?: Answer;
  exit?: { code: number | null; signal: NodeJS.Signals | null; afterMs: number };
  killedAfterDeadline: boolean;
  pgConnectionsBefore: number;
  pgConnectionsAfter: number;
  redisClientsBefore: number;
  redisClientsAfter: number;
  output: string;
}

/**
 * The compiled entry point (`compiledMain`: `src/` compiled privately when stale).
 * `GRACEFUL_SHUTDOWN_APP=<path to main.js>` runs that build instead (to try a fix on a copy).
 */
function compiledEntry(): string {
  if (process.env.GRACEFUL_SHUTDOWN_APP) return resolve(ROOT, process.env.GRACEFUL_SHUTDOWN_APP);
  return compiledMain();
}

function request(
  port: number,
  agent: http.Agent | false,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  return new Promise((done) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode, connection: res.headers.connection, at: Date.now() }));
        res.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message, at: Date.now() }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message, at: Date.now() }));
    req.end(data);
  });
}


async function countPg(applicationName: string): Promise<number> {
  const rows = await sql<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  return rows[0].n;
}

async function countRedis(redis: Redis, connectionName: string): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${connectionName} `)).length;
}

async function runScenario(): Promise<Observations> {
  const tag = `gs${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const databaseUrl = new URL(TEST_DATABASE_URL);
  databaseUrl.searchParams.set('application_name', tag);
  const redisUrl = new URL(TEST_REDIS_URL);
  redisUrl.searchParams.set('connectionName', tag);

  const child: ChildProcess = spawn(process.execPath, [compiledEntry()], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: redisUrl.toString(),
      SESSION_SECRET: TEST_SECRET,
      REDIS_KEY_PREFIX: `${tag}:`,
      THROTTLE_LIMIT: '100000',
      THROTTLE_LOGIN_LIMIT: '100000',
      SESSION_BINDING: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));

  // Answers record absolute times (Date.now()); they are made relative to SIGTERM once it was sent.
  let signalAt: number;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal, at: Date.now() })),
  );

  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: LOGINS, maxFreeSockets: LOGINS });
  const observed: Observations = {
    sigtermSent: false,
    inFlightAtSignal: 0,
    logins: [],
    releaseDelays: [],
    killedAfterDeadline: false,
    pgConnectionsBefore: -1,
    pgConnectionsAfter: -1,
    redisClientsBefore: -1,
    redisClientsAfter: -1,
    output: '',
  };
  try {
    await redis.connect();
    // Up?
    const upBy = Date.now() + 20_000;
    for (;;) {
      const answer = await request(port, false, 'GET', '/ping');
      if (answer.status === 200) break;
      if (Date.now() > upBy || child.exitCode !== null) throw new Error(`the app did not come up:\n${output}`);
      await sleep(100);
    }
    const email = `user-${tag}@${EMAIL_DOMAIN}`;
    const registered = await request(port, false, 'POST', '/auth/register', { email, password: PASSWORD });
    if (registered.status !== 201) throw new Error(`register answered ${JSON.stringify(registered)}`);

    // LOGINS keep-alive connections the server has accepted and read from.
    const warm = await Promise.all(Array.from({ length: LOGINS }, () => request(port, agent, 'GET', '/ping')));
    if (warm.some((a) => a.status !== 200)) throw new Error(`warm-up: ${JSON.stringify(warm)}`);
    const sockets = Object.values(agent.freeSockets).flat() as Socket[];
    if (sockets.length !== LOGINS) throw new Error(`expected ${LOGINS} open connections, have ${sockets.length}`);
    const closedAt = new Map<Socket, number>();
    for (const socket of sockets) socket.once('close', () => closedAt.set(socket, Date.now()));

    observed.pgConnectionsBefore = await countPg(tag);
    observed.redisClientsBefore = await countRedis(redis, tag);

    let firstAnswer!: () => void;
    const firstAnswered = new Promise<void>((r) => (firstAnswer = r));
    const answeredAt: number[] = [];
    const socketOf: Socket[] = [];
    const logins = Array.from({ length: LOGINS }, (_, i) =>
      new Promise<Answer>((done) => {
        const data = JSON.stringify({ email, password: PASSWORD });
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/auth/login',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              answeredAt[i] = Date.now();
              done({ status: res.statusCode, connection: res.headers.connection, at: Date.now() });
            });
          },
        );
        req.on('socket', (socket: Socket) => (socketOf[i] = socket));
        req.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message, at: Date.now() }));
        req.end(data);
      }).then((answer) => {
        firstAnswer();
        return answer;
      }),
    );
    await firstAnswered;
    observed.inFlightAtSignal = LOGINS - answeredAt.filter((t) => t !== undefined).length;
    signalAt = Date.now();
    observed.sigtermSent = child.kill('SIGTERM');

    await sleep(200);
    observed.freshConnectionAfterSignal = await request(port, false, 'GET', '/ping');

    observed.logins = await Promise.all(logins);
    for (const answer of [...observed.logins, observed.freshConnectionAfterSignal]) answer.at -= signalAt;

    const exitDeadline = sleep(Math.max(0, signalAt + EXIT_DEADLINE_MS - Date.now())).then(() => null);
    const exit = await Promise.race([exited, exitDeadline]);
    if (exit) {
      observed.exit = { code: exit.code, signal: exit.signal, afterMs: exit.at - signalAt };
    } else {
      observed.killedAfterDeadline = true;
      child.kill('SIGKILL');
      await exited;
    }
    await sleep(50);
    observed.releaseDelays = socketOf.map((socket, i) => {
      const closed = closedAt.get(socket);
      return closed === undefined || answeredAt[i] === undefined ? null : closed - answeredAt[i];
    });

    // The server's end of a closed connection can take a moment to disappear from the views.
    const settleBy = Date.now() + 2000;
    do {
      observed.pgConnectionsAfter = await countPg(tag);
      observed.redisClientsAfter = await countRedis(redis, tag);
      if (observed.pgConnectionsAfter === 0 && observed.redisClientsAfter === 0) break;
      await sleep(100);
    } while (Date.now() < settleBy);
  } finally {
    agent.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    const keys = await redis.keys(`${tag}:*`).catch(() => [] as string[]);
    if (keys.length > 0) await redis.del(...keys).catch(() => undefined);
    redis.disconnect();
    await sql(
      `DELETE FROM sessions WHERE user_id IN (SELECT id::text FROM users WHERE email LIKE $1)`,
      [`%@${EMAIL_DOMAIN}`],
    ).catch(() => undefined);
    await sql('DELETE FROM users WHERE email LIKE $1', [`%@${EMAIL_DOMAIN}`]).catch(() => undefined);
    observed.output = output;
  }
  return observed;
}

describe('graceful shutdown on SIGTERM (compiled app in a child process)', () => {
  let observed: Observations;

  beforeAll(async () => {
    observed = await runScenario();
  }, 45_000);

  it('has the scenario it claims: SIGTERM sent while most logins were still running', () => {
    expect(observed.sigtermSent).toBe(true);
    expect(observed.inFlightAtSignal).toBeGreaterThanOrEqual(LOGINS / 2);
    expect(observed.pgConnectionsBefore).toBeGreaterThan(0);
    expect(observed.redisClientsBefore).toBeGreaterThan(0);
  });

  it('finishes every login in flight at SIGTERM with a normal answer (2xx/4xx; no reset, no 5xx)', () => {
    // 200 is what they get; any 2xx/4xx is accepted so that a concurrent run of another suite
    // truncating the shared tables (a 401) cannot pass for a shutdown problem.
    const abnormal = observed.logins.filter((a) => a.status === undefined || a.status < 200 || a.status >= 500);
    expect(abnormal).toEqual([]);
  });

  it('refuses new connections once SIGTERM arrived', () => {
    expect(observed.freshConnectionAfterSignal).toMatchObject({ error: 'ECONNREFUSED' });
  });

  it('releases each kept-alive connection as soon as its in-flight answer is sent', () => {
    // Held open instead, a connection waits out Node's keepAliveTimeout (5 s) and meanwhile
    // serves whatever new request arrives on it: the process neither stops accepting nor exits.
    const slow = observed.releaseDelays.filter((delay) => delay === null || delay > 1000);
    expect({ heldOpen: slow.length, delays: observed.releaseDelays }).toMatchObject({ heldOpen: 0 });
  });

  it('exits by itself with code 0 within 10 s of SIGTERM', () => {
    expect(observed.killedAfterDeadline).toBe(false);
    expect(observed.exit).toMatchObject({ code: 0, signal: null });
    expect(observed.exit!.afterMs).toBeLessThan(EXIT_DEADLINE_MS);
  });

  it('leaves no PostgreSQL or Redis connection of its own behind', () => {
    expect({ postgres: observed.pgConnectionsAfter, redis: observed.redisClientsAfter }).toEqual({
      postgres: 0,
      redis: 0,
    });
  });

  afterAll(() => {
    if (!observed) return;
    const { output, logins, ...summary } = observed;
    const shortOutput = output
      .split('\n')
      .filter((line) => !/InstanceLoader|RouterExplorer|RoutesResolver/.test(line))
      .slice(-20)
      .join('\n');
    console.log(
      `graceful-shutdown observations: ${JSON.stringify({ ...summary, logins: logins.map((a) => `${a.status ?? a.error}@${a.at}ms${a.connection === 'close' ? ' (Connection: close)' : ''}`) })}\napp output (tail):\n${shortOutput}`,
    );
  });
});
