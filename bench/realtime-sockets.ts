/**
 * Real-time load (issue 12): REALTIME_SOCKETS socket.io clients (2,000) of one user's 10 sessions
 * on the compiled app in a process of its own (PostgreSQL and Redis), then one admin revocation of
 * all of that user's sessions.
 *
 *   npx ts-node bench/realtime-sockets.ts
 *
 * Prints: the app's resident memory before and with the sockets open (per socket), how long opening
 * them took, and the time from the revocation request to the last of them disconnected (each
 * having received `session.ended` first). Environment: TEST_DATABASE_URL, TEST_REDIS_URL,
 * REALTIME_SOCKETS (2000). The database's tables are emptied first: use a test database.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { resetDatabase } from '../test/support/app-harness';
import { compiledMain, spawnApp } from '../test/support/compiled-app';

const SOCKETS = Number(process.env.REALTIME_SOCKETS ?? 2000);
const SESSIONS = 10;
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const SECRET = 'bench-secret-that-is-long-enough-0123456789abcdef';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Resident memory of a process, in MiB (Linux). */
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/** The fields of the app's answers the bench reads. */
interface Answer {
  accessToken: string;
  revoked?: number;
  user: { id: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  await resetDatabase(DATABASE_URL);
  compiledMain();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { child } = await spawnApp(
    {
      NODE_ENV: 'test',
      DATABASE_URL,
      REDIS_URL,
      SESSION_SECRET: SECRET,
      REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
      THROTTLE_LIMIT: '1000000',
      THROTTLE_LOGIN_LIMIT: '1000000',
      SESSION_BINDING: 'off',
      ADMIN_EMAIL: 'bench-admin@example.com',
      ADMIN_PASSWORD: 'bench admin password',
      LOG_LEVEL: 'error',
    },
    port,
  );
  const post = async (path: string, body: unknown, token?: string, method = 'POST') => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (res.status === 204 ? null : await res.json()) as Answer | null };
  };
  try {
    const email = `bench-${Date.now()}@example.com`;
    await post('/auth/register', { email, password: 'bench password 1' });
    const tokens: string[] = [];
    for (let i = 0; i < SESSIONS; i += 1) tokens.push((await post('/auth/login', { email, password: 'bench password 1', deviceName: `d${i}` })).body!.accessToken);
    const admin = (await post('/auth/login', { email: 'bench-admin@example.com', password: 'bench admin password' })).body!;
    const me = (await (await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${tokens[0]}` } })).json()) as Answer;
    const userId = me.user.id;

    // A few sockets first, so the measurement leaves out what the first connection loads.
    const warm = await Promise.all(Array.from({ length: 10 }, (_, i) => open(base, tokens[i % SESSIONS])));
    await sleep(500);
    const before = rssMiB(child.pid!);
    const openStart = performance.now();
    const sockets: Socket[] = [...warm];
    for (let i = 0; i < SOCKETS - warm.length; i += 100) {
      sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, SOCKETS - warm.length - i) }, (_, j) => open(base, tokens[(i + j) % SESSIONS])))));
    }
    const openMs = performance.now() - openStart;
    await sleep(1500); // presence written, allocations settled
    const withSockets = rssMiB(child.pid!);

    let ended = 0;
    let told = 0;
    const allClosed = new Promise<number>((resolve) => {
      for (const socket of sockets) {
        socket.once('session.ended', () => (told += 1));
        socket.once('disconnect', () => {
          ended += 1;
          if (ended === sockets.length) resolve(performance.now());
        });
      }
    });
    const revokeStart = performance.now();
    const revoked = await post(`/admin/users/${encodeURIComponent(userId)}/sessions`, undefined, admin.accessToken, 'DELETE');
    const answeredMs = performance.now() - revokeStart;
    const closedMs = (await Promise.race([allClosed, sleep(30_000).then(() => NaN)])) - revokeStart;

    process.stdout.write(
      `${[
        `| figure | value |`,
        `| --- | --- |`,
        `| sockets (socket.io, websocket transport) over ${SESSIONS} sessions of one user | ${sockets.length} |`,
        `| time to open them (100 at a time) | ${Math.round(openMs)} ms |`,
        `| app RSS before / with them | ${before.toFixed(1)} MiB / ${withSockets.toFixed(1)} MiB |`,
        `| memory per socket (RSS delta / sockets) | ${(((withSockets - before) * 1024) / (sockets.length - warm.length)).toFixed(1)} KiB |`,
        `| admin revoke-all answered (${revoked.status}, revoked ${revoked.body?.revoked}) | ${Math.round(answeredMs)} ms |`,
        `| every socket told (session.ended) and disconnected | ${told}/${ended} after ${Math.round(closedMs)} ms |`,
      ].join('\n')}\n`,
    );
    for (const socket of sockets) socket.close();
  } finally {
    child.kill('SIGKILL');
  }
}

function open(base: string, token: string): Promise<Socket> {
  const socket = io(base, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
