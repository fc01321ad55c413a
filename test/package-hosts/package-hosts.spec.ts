import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env';
import { HostFixture, packedTarball, type RunningHost } from './host-fixture';

/**
 * The packed package in the apps people have, built with their own tsconfig and TypeScript:
 * the ESM app `nest new` makes with Nest 12 (on PostgreSQL and Redis, with an audit-log adapter of
 * its own), a CommonJS Nest 12 app and a CommonJS Nest 11 app (on the in-memory adapters, with
 * the contract's minimal `SessionModule.forRoot({ secret, credentials })`). Each runs twice: with
 * the global guard, and with `@UseGuards(SessionAuthGuard, RolesGuard)` on its own controllers.
 */
const FIXTURES = [
  { name: 'esm-nest12', servers: true },
  { name: 'cjs-nest12', servers: false },
  { name: 'cjs-nest11', servers: false },
] as const;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(host: RunningHost, method: string, path: string, options: { token?: string; body?: object } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body) headers['content-type'] = 'application/json';
  const res = await fetch(`${host.url}${path}`, { method, headers, body: options.body && JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function login(host: RunningHost, email: string, password: string): Promise<{ token: string; refresh: string; userId: string; sessionId: string }> {
  const res = await call(host, 'POST', '/auth/login', { body: { email, password } });
  expect(res.status).toBe(200);
  const user = res.body.user as { id: string; email: string; roles: string[] };
  expect(user.email).toBe(email);
  return { token: res.body.accessToken as string, refresh: res.body.refreshToken as string, userId: user.id, sessionId: res.body.sessionId as string };
}

/** Everything a host does with the module, with the module's own guards on its controllers. */
async function sessionFlows(host: RunningHost): Promise<void> {
  // Login sets the cookies as the contract says, the refresh cookie scoped to /auth.
  const res = await call(host, 'POST', '/auth/login', { body: { email: 'user@example.com', password: 'user password' } });
  expect(res.status).toBe(200);
  const cookies = res.headers.getSetCookie();
  expect(cookies.find((c) => c.startsWith('__Host-access='))).toMatch(/HttpOnly; Secure; SameSite=Lax/);
  expect(cookies.find((c) => c.startsWith('__Secure-refresh='))).toMatch(/Path=\/auth;/);
  expect((await call(host, 'POST', '/auth/login', { body: { email: 'user@example.com', password: 'wrong password' } })).status).toBe(401);
  const user = await login(host, 'user@example.com', 'user password');

  // A guarded route of the host: 401 with WWW-Authenticate, then 200; @Public() open; @Roles() 403 then 200.
  const refused = await call(host, 'GET', '/guarded/mine');
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toBe('Bearer');
  expect(await call(host, 'GET', '/guarded/mine', { token: user.token })).toMatchObject({ status: 200, body: { userId: user.userId } });
  expect((await call(host, 'GET', '/guarded/open')).status).toBe(200);
  expect((await call(host, 'GET', '/guarded/admin', { token: user.token })).status).toBe(403);
  const admin = await login(host, 'admin@example.com', 'admin password');
  expect(await call(host, 'GET', '/guarded/admin', { token: admin.token })).toMatchObject({ status: 200, body: { sessionId: admin.sessionId } });

  // Refresh rotates; the old access token stops working.
  const refreshed = await call(host, 'POST', '/auth/refresh', { body: { refreshToken: user.refresh } });
  expect(refreshed).toMatchObject({ status: 200, body: { sessionId: user.sessionId } });
  expect((await call(host, 'GET', '/guarded/mine', { token: user.token })).status).toBe(401);
  const rotated = refreshed.body.accessToken as string;

  // The host's own login flow without a password (a magic link) issues a session as /auth/login does.
  const link = await call(host, 'POST', '/magic-link', { body: { email: 'user@example.com' } });
  const magic = await call(host, 'POST', '/magic-link/redeem', { body: { token: link.body.token } });
  expect(magic).toMatchObject({ status: 200, body: { tokenType: 'Bearer', user: { id: user.userId } } });
  expect(magic.headers.getSetCookie().some((c) => c.startsWith('__Host-access='))).toBe(true);
  const viaLink = magic.body.accessToken as string;
  expect(await call(host, 'GET', '/auth/me', { token: viaLink })).toMatchObject({ status: 200, body: { user: { email: 'user@example.com' } } });
  expect((await call(host, 'POST', '/magic-link/redeem', { body: { token: link.body.token } })).status).toBe(401);
  const mine = await call(host, 'GET', '/auth/sessions', { token: viaLink });
  expect((mine.body as unknown as Array<{ id: string }>).map((s) => s.id)).toContain(magic.body.sessionId);

  // Logout ends the session at once.
  expect((await call(host, 'POST', '/auth/logout', { token: rotated })).status).toBe(204);
  expect((await call(host, 'GET', '/guarded/mine', { token: rotated })).status).toBe(401);
  expect((await call(host, 'GET', '/guarded/mine', { token: viaLink })).status).toBe(200);

  // The host's own ThrottlerModule keeps its own limit (3 a minute) and storage.
  const limited = [];
  for (let i = 0; i < 4; i++) limited.push((await call(host, 'GET', '/host-limited')).status);
  expect(limited).toEqual([200, 200, 200, 429]);
}

describe.each(FIXTURES)('the package in host $name', ({ name, servers }) => {
  let fixture: HostFixture;
  let database: string | undefined;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    fixture = await HostFixture.install(name, await packedTarball());
    await fixture.build();
    if (servers) {
      database = `session_host_${randomBytes(4).toString('hex')}`;
      await adminQuery(`CREATE DATABASE ${database}`);
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = `/${database}`;
      Object.assign(env, { DATABASE_URL: url.toString(), REDIS_URL: TEST_REDIS_URL });
    }
  }, 600_000);

  afterAll(async () => {
    fixture?.remove();
    if (database) await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('with @UseGuards on its controllers: the module guards nothing else of the app', async () => {
    const host = await fixture.start({ ...env, REDIS_KEY_PREFIX: `host-${randomBytes(4).toString('hex')}:` });
    try {
      await sessionFlows(host);
      expect(await call(host, 'GET', '/')).toMatchObject({ status: 200, body: { hello: 'host' } });
      expect(await call(host, 'GET', '/plain/mine')).toMatchObject({ status: 200, body: { userId: null } });
      expect((await call(host, 'GET', '/plain/admin')).status).toBe(200);
      expect(host.output).toContain('global guard: off');
    } finally {
      await host.stop();
    }
  });

  it('with the global guard: every route needs a session unless @Public()', async () => {
    const prefix = `host-${randomBytes(4).toString('hex')}:`;
    const host = await fixture.start({ ...env, GLOBAL_GUARD: '1', REDIS_KEY_PREFIX: prefix });
    try {
      await sessionFlows(host);
      expect((await call(host, 'GET', '/')).status).toBe(401);
      expect((await call(host, 'GET', '/plain/mine')).status).toBe(401);
      expect((await call(host, 'GET', '/plain/open')).status).toBe(200);
      const user = await login(host, 'user@example.com', 'user password');
      expect(await call(host, 'GET', '/plain/mine', { token: user.token })).toMatchObject({ status: 200, body: { userId: user.userId } });
      expect((await call(host, 'GET', '/plain/admin', { token: user.token })).status).toBe(403);
      expect(host.output).toContain('global guard: on');
      if (servers) await expectServersUsed(database!, prefix, host);
    } finally {
      await host.stop();
    }
  });

  if (name === 'esm-nest12') {
    it("proves its own AuditLog adapter with the package's contract suite (the testing entry, under its own Vitest)", async () => {
      const output = await fixture.script('test', ['--reporter=verbose']);
      expect(output).toMatch(/AuditLog contract: ArrayAuditLog/);
      expect(output).toMatch(/Tests\s+9 passed/);
    });
  }
});

/** The sessions went to PostgreSQL and the cache and counters to Redis. */
async function expectServersUsed(database: string, prefix: string, host: RunningHost): Promise<void> {
  expect(host.output).toMatch(/store TypeOrmSessionStore, cache \w+ \(redis\)/);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM sessions');
    expect(Number(rows[0].n)).toBeGreaterThan(0);
  } finally {
    await client.end();
  }
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const [, keys] = await redis.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    expect(keys.length).toBeGreaterThan(0);
  } finally {
    redis.disconnect();
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
