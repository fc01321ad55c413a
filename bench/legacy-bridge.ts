/**
 * What the express-session migration bridge costs, measured in one run against the real servers
 * (TEST_DATABASE_URL / TEST_REDIS_URL):
 * - the hot path: a guarded request carrying this module's token, on an app with the bridge off
 *   and one with it on, alternated ABBA (the ratio is the figure; absolute times vary with the machine);
 * - an upgrade: the first request of a browser that carries only its express-session cookie,
 *   next to the same request with this module's (cached) token, and to a login (argon2).
 *
 *   npm run bench:legacy
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createApp, initApp } from '../src/app.factory';
import { startExpressSessionApp } from '../test/support/express-session-app';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const LEGACY_SECRET = 'bench-legacy-express-session-secret';
const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const USERS = Number(process.env.USERS ?? 200);
const SECRET = 'bench-secret-that-is-long-enough-0123456789abcdef';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function start(env: Record<string, string>): Promise<{ app: INestApplication; url: string }> {
  const app = await createApp({
    NODE_ENV: 'test',
    DATABASE_URL,
    REDIS_URL,
    SESSION_SECRET: SECRET,
    REDIS_KEY_PREFIX: `b${randomBytes(3).toString('hex')}:`,
    THROTTLE_LIMIT: '100000000',
    THROTTLE_LOGIN_LIMIT: '100000000',
    SESSION_BINDING: 'off',
    LOG_LEVEL: 'silent',
    ...env,
  });
  await initApp(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

async function register(url: string): Promise<{ id: string; token: string; email: string }> {
  const email = `bench-${randomBytes(6).toString('hex')}@example.com`;
  await json(`${url}/auth/register`, { method: 'POST', body: JSON.stringify({ email, password: 'correct horse battery' }) });
  const login = await json(`${url}/auth/login`, { method: 'POST', body: JSON.stringify({ email, password: 'correct horse battery' }) });
  return { id: (login.body.user as { id: string }).id, token: login.body.accessToken as string, email };
}

/** Milliseconds per request, `n` sequential guarded requests with the token. */
async function guarded(url: string, token: string, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/ping/secure`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`guarded request: ${res.status}`);
  }
  return (performance.now() - started) / n;
}

async function main() {
  const prefix = `benchlegacy${randomBytes(3).toString('hex')}:`;
  const legacy = await startExpressSessionApp({ redisUrl: REDIS_URL, prefix, secret: LEGACY_SECRET });
  const off = await start({});
  const on = await start({ LEGACY_SESSION_SECRET: LEGACY_SECRET, LEGACY_SESSION_PREFIX: prefix });
  try {
    // The hot path, ABBA: off, on, on, off, ×2.
    const offUser = await register(off.url);
    const onUser = await register(on.url);
    await guarded(off.url, offUser.token, 200);
    await guarded(on.url, onUser.token, 200);
    const times: { off: number[]; on: number[] } = { off: [], on: [] };
    for (const side of ['off', 'on', 'on', 'off', 'off', 'on', 'on', 'off'] as const) {
      times[side].push(await guarded(side === 'off' ? off.url : on.url, side === 'off' ? offUser.token : onUser.token, REQUESTS / 4));
    }
    const meanOff = times.off.reduce((s, x) => s + x, 0) / times.off.length;
    const meanOn = times.on.reduce((s, x) => s + x, 0) / times.on.length;

    // Upgrades: each user logged in to the legacy app, then one first request here.
    const upgrade: number[] = [];
    const cached: number[] = [];
    const logins: number[] = [];
    for (let i = 0; i < USERS; i++) {
      const user = await register(on.url);
      const cookie = await legacy.login(user.id);
      let t = performance.now();
      const first = await fetch(`${on.url}/ping/secure`, { headers: { cookie } });
      await first.arrayBuffer();
      upgrade.push(performance.now() - t);
      if (first.status !== 200) throw new Error(`upgrade: ${first.status}`);
      t = performance.now();
      await guarded(on.url, user.token, 1);
      cached.push(performance.now() - t);
      if (i % 10 === 0) {
        t = performance.now();
        await json(`${on.url}/auth/login`, { method: 'POST', body: JSON.stringify({ email: user.email, password: 'correct horse battery' }) });
        logins.push(performance.now() - t);
      }
    }
    const lines = [
      `hot path (guarded request with this module's token, ${REQUESTS} per side, ABBA):`,
      `  bridge off ${(meanOff * 1000).toFixed(0)} µs/request, bridge on ${(meanOn * 1000).toFixed(0)} µs/request: on/off ${(meanOn / meanOff).toFixed(3)}`,
      `upgrade (first request with only the express-session cookie), ${USERS} users:`,
      `  p50 ${median(upgrade).toFixed(2)} ms; the same request with a cached token p50 ${median(cached).toFixed(2)} ms; a login (argon2) p50 ${median(logins).toFixed(2)} ms`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await off.app.close();
    await on.app.close();
    await legacy.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
