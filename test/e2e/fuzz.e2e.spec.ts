import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import type { Response, Test } from 'supertest';
import {
  login,
  LoggedIn,
  registerAndLogin,
  RunningApp,
  startApp,
  uniqueEmail,
  USER_AGENT_CHROME_MAC,
} from '../support/app-harness';
import { TEST_DATABASE_URL } from '../support/test-env';

/*
 * Fuzzing the HTTP API: malformed values in every body field, path parameter, query parameter,
 * token header, cookie and metadata header. Whatever a client sends, the answer is never a 5xx,
 * it is a 4xx (or a 2xx where the input is in fact acceptable), and a malformed request changes
 * no state: the `sessions` and `users` tables are the same afterwards and a bystander's
 * ("victim's") session still works.
 *
 * Violations are collected rather than thrown at the first one, so a failure lists every request
 * that misbehaved (method, path, the malformed part, status and body).
 */

// ---------------------------------------------------------------------------------------------
// The malformed values
// ---------------------------------------------------------------------------------------------

const KB20 = 'A'.repeat(20_000);

/** Strings a client can put anywhere a string goes. */
const STRINGS: ReadonlyArray<readonly [label: string, value: string]> = [
  ['empty', ''],
  ['space', ' '],
  ['NUL', '\u0000'],
  ['NUL inside', 'a\u0000b'],
  ['CRLF', 'a\r\nb'],
  ['LF', 'a\nb'],
  ['tab', 'a\tb'],
  ['DEL', 'a\u007fb'],
  ['RTL override', '\u202e'],
  ['RTL inside', 'abc\u202edef'],
  ['zero-width space', '\u200b'],
  ['BOM', '\ufeff'],
  ['emoji', '😀🔥'],
  ['ZWJ emoji', '👩‍👩‍👧‍👦'],
  ['lone surrogate', '\ud800'],
  ['combining marks', 'e\u0301\u0301\u0301\u0301'],
  ['20 kB', KB20],
  ['20 kB emoji', '😀'.repeat(5_000)],
  ['SQL OR', "' OR 1=1 --"],
  ['SQL drop', "'; DROP TABLE sessions; --"],
  ['SQL union', '1 UNION SELECT id, email FROM users --'],
  ['SQL quote', "'"],
  ['backslash', '\\'],
  ['percent', '%'],
  ['percent NUL', '%00'],
  ['path traversal', '../../etc/passwd'],
  ['html', '<script>alert(1)</script>'],
  ['JSON text', '{"a":1}'],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['Infinity text', '1e309'],
  ['negative number text', '-1'],
  ['hex number text', '0x10'],
  ['nil uuid', '00000000-0000-0000-0000-000000000000'],
  ['uuid with NUL', '6f1c1f5e-0000-4000-8000-00000000000\u0000'],
  ['uuid with braces', '{6f1c1f5e-0000-4000-8000-000000000000}'],
  ['format string', '%s%s%s%n'],
  ['very long email', `${'a'.repeat(300)}@${'b'.repeat(300)}.com`],
  ['email local part 65', `${'a'.repeat(65)}@example.com`],
  ['email with NUL', 'user\u0000@example.com'],
  ['email with CRLF header', 'user@example.com\r\nBcc: x@example.com'],
  ['email with SQL', "x@example.com' OR '1'='1"],
  ['emoji email', '😀@example.com'],
  ['email without domain', 'user@'],
  ['email ip literal', 'user@[127.0.0.1]'],
  ['two ats', 'a@b@example.com'],
];

/** Values that are not strings, for JSON fields. */
const NON_STRINGS: ReadonlyArray<readonly [label: string, value: unknown]> = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['zero', 0],
  ['negative', -1],
  ['float', 1.5],
  ['huge number', 1e308],
  ['empty array', []],
  ['array of strings', ['a', 'b']],
  ['array with object', [{ a: 1 }]],
  ['empty object', {}],
  ['nested object', { a: { b: { c: [1, { d: null }] } } }],
  ['__proto__ object', JSON.parse('{"__proto__":{"polluted":"yes"}}')],
  ['constructor object', { constructor: { prototype: { polluted: 'yes' } } }],
  ['toString object', { toString: 'x', valueOf: 'y', length: 3 }],
  ['deep object', deepObject(500)],
];

const VALUES: ReadonlyArray<readonly [label: string, value: unknown]> = [...STRINGS, ...NON_STRINGS];

/** Unknown or dangerous top-level keys of a JSON body. */
const EXTRA_KEYS: ReadonlyArray<readonly [label: string, json: string]> = [
  ['__proto__ key', '"__proto__":{"polluted":"yes","roles":["admin"]}'],
  ['constructor key', '"constructor":{"prototype":{"polluted":"yes"}}'],
  ['prototype key', '"prototype":{"polluted":"yes"}'],
  ['roles key', '"roles":["admin"]'],
  ['id key', '"id":"00000000-0000-4000-8000-000000000000"'],
  ['userId key', '"userId":"x"'],
  ['empty key', '"":1'],
  ['NUL key', '"\\u0000":1'],
];

/** Whole bodies, as raw text sent with `Content-Type: application/json`. */
const RAW_BODIES: ReadonlyArray<readonly [label: string, raw: string]> = [
  ['array', '[]'],
  ['array of objects', '[{"email":"a@example.com","password":"x"}]'],
  ['string', '"abc"'],
  ['number', '1'],
  ['null', 'null'],
  ['true', 'true'],
  ['empty object', '{}'],
  ['truncated', '{"email":'],
  ['trailing garbage', '{}x'],
  ['two objects', '{}{}'],
  ['NaN', 'NaN'],
  ['comment', '{/*c*/}'],
  ['single quotes', "{'email':'a'}"],
  ['NUL byte', '\u0000'],
  ['BOM then object', '\ufeff{}'],
  ['duplicate keys', '{"email":"a@example.com","email":{"x":1}}'],
  ['deep array 20 000', `{"email":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
  ['deep object 5 000', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`],
  ['90 kB string field', JSON.stringify({ email: 'a@example.com', password: 'p'.repeat(90_000) })],
  ['many keys', `{${Array.from({ length: 3_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`],
];

function deepObject(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------

/** Percent-encodes every byte of the UTF-8 form (lone surrogates become U+FFFD, never a throw). */
const pct = (value: string) =>
  Array.from(Buffer.from(value, 'utf8'), (b) =>
    /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
  ).join('');

/** What a client can put in a header: the UTF-8 bytes, or null when Node refuses it (CR, LF, NUL, other controls). */
const headerValue = (value: string): string | null =>
  /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value) ? null : Buffer.from(value, 'utf8').toString('latin1');

const show = (value: unknown): string => {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 100)}…(${text.length} chars)` : text;
};

/** JSON text of a body with one field replaced, keeping the field order of `base`. */
const withField = (base: Record<string, unknown>, field: string, value: unknown) =>
  JSON.stringify({ ...base, [field]: value });

/** How login and refresh refuse: malformed (400), wrong (401), or too many failures (429). */
const LOGIN_REFUSED = [400, 401, 429] as const;

const isClientRefusal = (error: unknown) => {
  const code = (error as { code?: unknown })?.code;
  return code === 'ERR_INVALID_CHAR' || code === 'ERR_HTTP_INVALID_HEADER_VALUE' || code === 'ERR_INVALID_HTTP_TOKEN';
};

// ---------------------------------------------------------------------------------------------
// Recording every request
// ---------------------------------------------------------------------------------------------

interface Probe {
  /** What is sent, for the report: method, path and the malformed part. */
  label: string;
  send: () => Test;
  /** Statuses that are a correct answer. A 5xx never is. */
  allowed: readonly number[];
  /** Extra check of a 2xx answer; returns a complaint or undefined. */
  check?: (res: Response) => string | undefined;
  /** True when Node's client may refuse to send it (a header value with CR, LF or NUL). */
  clientMayRefuse?: boolean;
}

class Fuzzer {
  sent = 0;
  refusedByClient = 0;
  readonly violations: string[] = [];

  async run(probes: Probe[], concurrency = 12): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < probes.length) await this.one(probes[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, probes.length) }, worker));
  }

  async one(probe: Probe): Promise<number | undefined> {
    let res: Response;
    try {
      res = await probe.send();
    } catch (error) {
      if (isClientRefusal(error)) {
        this.refusedByClient++;
        if (!probe.clientMayRefuse) this.violations.push(`${probe.label} → client refused unexpectedly: ${String(error)}`);
        return undefined;
      }
      this.sent++;
      this.violations.push(`${probe.label} → request failed: ${String(error)}`);
      return undefined;
    }
    this.sent++;
    const body = show(res.body && Object.keys(res.body).length > 0 ? res.body : res.text);
    if (res.status >= 500 || !probe.allowed.includes(res.status)) {
      this.violations.push(`${probe.label} → ${res.status} ${body} (allowed: ${probe.allowed.join('/')})`);
    } else if (res.status < 300 && probe.check) {
      const complaint = probe.check(res);
      if (complaint) this.violations.push(`${probe.label} → ${res.status}: ${complaint}`);
    }
    return res.status;
  }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

interface Snapshot {
  sessions: { count: number; maxVersion: number | null; revoked: number; hash: string };
  users: { count: number; hash: string };
}

/**
 * A database of this file's own on the test server: other suites (run by other processes) empty
 * the shared `test` database at their start, which would read as a state change here.
 */
const FUZZ_DB = `fuzz_${randomBytes(6).toString('hex')}`;
const FUZZ_DB_URL = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${FUZZ_DB}`;
  return url.toString();
})();

async function query<T>(text: string, url = FUZZ_DB_URL): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Counts and a hash of what a request may change (`last_activity_at` is left out: reads slide it). */
async function snapshot(): Promise<Snapshot> {
  const [sessions] = await query<Snapshot['sessions']>(
    `SELECT count(*)::int AS count, max(version) AS "maxVersion", count(revoked_at)::int AS revoked,
            md5(coalesce(string_agg(concat_ws('|', id, user_id, version, revoked_at, revoked_reason,
              access_hash, refresh_hash, previous_refresh_hash, expires_at, absolute_expires_at,
              array_to_string(roles, ',')), ',' ORDER BY id), '')) AS hash
       FROM sessions`,
  );
  const [users] = await query<Snapshot['users']>(
    `SELECT count(*)::int AS count,
            md5(coalesce(string_agg(concat_ws('|', id, email, password_hash, name, array_to_string(roles, ',')),
              ',' ORDER BY id), '')) AS hash
       FROM users`,
  );
  return { sessions, users };
}

/** Sends raw bytes and returns what came back (empty when the server just closed). */
function rawExchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.end(bytes);
  });
}

const CONTROL = /[\u0000-\u001f\u007f]/;

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

describe('fuzz: malformed input on every route and field', () => {
  let running: RunningApp;
  let port: number;
  let admin: LoggedIn;
  let victim: LoggedIn;
  let attacker: LoggedIn;
  let device: LoggedIn;
  const fuzz = new Fuzzer();
  const adminEmail = uniqueEmail('fuzz-admin');
  const adminPassword = 'admin password fuzz 1';
  /** A well-formed CSRF value that never equals any malformed value below. */
  const csrf = randomBytes(24).toString('base64url');

  /**
   * Every request carries the User-Agent the sessions were opened with (the harness logs in as
   * Chrome on macOS), so a session bound to its client is not ended as hijacked by the fuzzing
   * itself; a probe that fuzzes User-Agent overrides it.
   */
  const http = () => ({
    get: (path: string) => running.http.get(path).set('User-Agent', USER_AGENT_CHROME_MAC),
    post: (path: string) => running.http.post(path).set('User-Agent', USER_AGENT_CHROME_MAC),
    delete: (path: string) => running.http.delete(path).set('User-Agent', USER_AGENT_CHROME_MAC),
  });
  const bearer = (t: Test, who: LoggedIn) => t.set('Authorization', `Bearer ${who.accessToken}`);
  const json = (t: Test, raw: string) => t.set('Content-Type', 'application/json').send(raw);

  beforeAll(async () => {
    await query(`CREATE DATABASE ${FUZZ_DB}`, TEST_DATABASE_URL);
    running = await startApp({
      DATABASE_URL: FUZZ_DB_URL,
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: adminPassword,
      // X-Forwarded-For is read only behind a trusted proxy: trust it so its fuzzing reaches the app.
      TRUST_PROXY: 'true',
      // Many odd logins of one user below; none of them should evict the others.
      SESSION_MAX_PER_USER: '1000',
    });
    // One listening server for every request (and the raw-socket probes).
    await running.app.listen(0, '127.0.0.1');
    port = (running.app.getHttpServer().address() as AddressInfo).port;
    admin = await login(running.http, adminEmail.toLowerCase(), adminPassword);
    victim = await registerAndLogin(running.http, uniqueEmail('fuzz-victim'));
    attacker = await registerAndLogin(running.http, uniqueEmail('fuzz-attacker'));
    device = await registerAndLogin(running.http, uniqueEmail('fuzz-device'));
  });

  afterAll(async () => {
    console.info(
      `fuzz: ${fuzz.sent} HTTP requests answered, ${fuzz.refusedByClient} refused by Node's client, ${fuzz.violations.length} violations`,
    );
    await running?.close();
    await query(`DROP DATABASE IF EXISTS ${FUZZ_DB} WITH (FORCE)`, TEST_DATABASE_URL);
  });

  // -------------------------------------------------------------------------------------------
  // Odd but acceptable input: may change state (it is accepted), must be stored cleanly.
  // -------------------------------------------------------------------------------------------
  describe('odd but acceptable input', () => {
    it('login with odd User-Agent / X-Device-Name / X-Device-Type / X-Forwarded-For / deviceName: 2xx or 4xx, stored without control characters', async () => {
      const start = fuzz.violations.length;
      const probes: Probe[] = [];
      const body = JSON.stringify({ email: device.email, password: device.password });
      for (const header of ['User-Agent', 'X-Device-Name', 'X-Device-Type', 'X-Forwarded-For', 'X-Device-Id']) {
        for (const [label, value] of STRINGS) {
          const wire = headerValue(value);
          probes.push({
            label: `POST /auth/login header ${header}: ${label} ${show(value)}`,
            send: () => json(http().post('/auth/login').set(header, wire ?? value), body),
            // A header section over Node's 16 kB limit is 431.
            allowed: [200, 431],
            clientMayRefuse: wire === null,
            check: (res) => (typeof res.body.accessToken === 'string' ? undefined : 'no accessToken'),
          });
        }
      }
      for (const [label, value] of VALUES) {
        probes.push({
          label: `POST /auth/login body.deviceName=${label} ${show(value)}`,
          send: () => json(http().post('/auth/login'), withField({ email: device.email, password: device.password }, 'deviceName', value)),
          allowed: [200, 400],
        });
      }
      await fuzz.run(probes, 8);

      // Everything stored is shown back cleanly, to the user and to an admin.
      const own = await bearer(http().get('/auth/sessions'), device);
      expect(own.status).toBe(200);
      expect(own.body.length).toBeGreaterThan(100);
      const listed = await bearer(http().get(`/admin/sessions?userId=${device.userId}&limit=100`), admin);
      expect(listed.status).toBe(200);
      for (const s of [...own.body, ...listed.body.items] as Array<Record<string, unknown>>) {
        for (const [field, max] of [['ipAddress', 64], ['userAgent', 512], ['deviceName', 128], ['deviceType', 32]] as const) {
          const v = s[field];
          if (v === null) continue;
          if (typeof v !== 'string' || v.length > max || CONTROL.test(v) || v !== v.trim() || v === '') {
            fuzz.violations.push(`stored session ${String(s.id)} has ${field}=${show(v)}`);
          }
        }
      }
      expect(fuzz.violations.slice(start)).toEqual([]);
    }, 60_000);

    it('register with odd but valid emails and names: 201 or 400, and a 201 account can log in (any case)', async () => {
      const start = fuzz.violations.length;
      const oddEmails = [
        `'or'1'='1-${randomBytes(3).toString('hex')}@example.com`,
        `o'reilly-${randomBytes(3).toString('hex')}@example.com`,
        `ÜSER.ünïcode-${randomBytes(3).toString('hex')}@EXAMPLE.com`,
        `用户${randomBytes(3).toString('hex')}@例子.广告`,
        `a+tag-${randomBytes(3).toString('hex')}@example.com`,
        `${'a'.repeat(58)}${randomBytes(3).toString('hex')}@example.com`,
        `"quoted local ${randomBytes(3).toString('hex')}"@example.com`,
      ];
      const registered: string[] = [];
      await fuzz.run(
        oddEmails.map((email) => ({
          label: `POST /auth/register body.email=${show(email)}`,
          send: () => json(http().post('/auth/register'), JSON.stringify({ email, password: 'long enough password' })),
          allowed: [201, 400],
          check: (res) => {
            registered.push(email);
            return res.body.email === email.toLowerCase() ? undefined : `stored as ${show(res.body.email)}`;
          },
        })),
        4,
      );
      for (const email of registered) {
        for (const variant of [email, email.toUpperCase(), email.toLowerCase()]) {
          await fuzz.run([
            {
              label: `POST /auth/login as freshly registered ${show(variant)}`,
              send: () => json(http().post('/auth/login'), JSON.stringify({ email: variant, password: 'long enough password' })),
              allowed: [200],
            },
          ]);
        }
      }
      const oddNames = STRINGS.filter(([, v]) => v.length <= 100 && !/\u0000/.test(v));
      await fuzz.run(
        oddNames.map(([label, name]) => ({
          label: `POST /auth/register body.name=${label} ${show(name)} (fresh email)`,
          send: () => json(http().post('/auth/register'), JSON.stringify({ email: uniqueEmail('fuzz-name'), password: 'long enough password', name })),
          allowed: [201, 400],
        })),
        6,
      );
      expect(fuzz.violations.slice(start)).toEqual([]);
    }, 60_000);
  });

  // -------------------------------------------------------------------------------------------
  // Malformed input: 4xx (or an acceptable 2xx) and no state change at all.
  // -------------------------------------------------------------------------------------------
  describe('malformed input changes nothing', () => {
    let initial: Snapshot;

    beforeAll(async () => {
      initial = await snapshot();
    });

    /** Runs probes and checks: no violation, and state exactly as before. */
    async function fuzzUnchanged(probes: Probe[], concurrency = 12): Promise<void> {
      const before = await snapshot();
      const start = fuzz.violations.length;
      await fuzz.run(probes, concurrency);
      // Soft, so a failure reports both the bad answers and the state they changed.
      expect.soft(fuzz.violations.slice(start)).toEqual([]);
      expect.soft(await snapshot()).toEqual(before);
    }

    it('POST /auth/register: every field, unknown keys and whole bodies', async () => {
      const probes: Probe[] = [];
      // A taken email keeps a valid name/password from creating anyone: 409 then, 400 when malformed.
      const taken = { email: victim.email, password: 'long enough password', name: 'Name' };
      for (const [label, value] of VALUES) {
        for (const field of ['name', 'password'] as const) {
          probes.push({
            label: `POST /auth/register body.${field}=${label} ${show(value)} (taken email)`,
            send: () => json(http().post('/auth/register'), withField(taken, field, value)),
            allowed: [400, 409],
          });
        }
        probes.push({
          label: `POST /auth/register body.email=${label} ${show(value)}`,
          send: () => json(http().post('/auth/register'), withField({ password: 'long enough password' }, 'email', value)),
          allowed: [400, 409],
        });
      }
      for (const [label, extra] of EXTRA_KEYS) {
        probes.push({
          label: `POST /auth/register with ${label} (fresh email)`,
          send: () =>
            json(http().post('/auth/register'), `{"email":${JSON.stringify(uniqueEmail('fuzz-extra'))},"password":"long enough password",${extra}}`),
          allowed: [400],
        });
      }
      // The victim's email in other cases and with invisible characters is taken or invalid.
      for (const email of [victim.email.toUpperCase(), ` ${victim.email} `, `${victim.email}\u200b`, `\u202e${victim.email}`]) {
        probes.push({
          label: `POST /auth/register body.email=${show(email)}`,
          send: () => json(http().post('/auth/register'), JSON.stringify({ email, password: 'long enough password' })),
          allowed: [400, 409],
        });
      }
      probes.push(...wholeBodies('/auth/register', [400]));
      await fuzzUnchanged(probes, 8);
    }, 60_000);

    it('POST /auth/login: every field, unknown keys and whole bodies', async () => {
      const probes: Probe[] = [];
      // Failed logins of one account are counted (429 beyond a limit, a 4xx like any other): the
      // field fuzzing uses a fresh unknown account per request so it reaches the credential check.
      for (const [label, value] of VALUES) {
        for (const field of ['email', 'password', 'deviceName'] as const) {
          probes.push({
            label: `POST /auth/login body.${field}=${label} ${show(value)}`,
            send: () =>
              json(http().post('/auth/login'), withField({ email: uniqueEmail('fuzz-nobody'), password: 'wrong password fuzz' }, field, value)),
            allowed: LOGIN_REFUSED,
          });
        }
      }
      for (const [label, extra] of EXTRA_KEYS) {
        probes.push({
          label: `POST /auth/login with ${label}`,
          send: () => json(http().post('/auth/login'), `{"email":${JSON.stringify(victim.email)},"password":"wrong password fuzz",${extra}}`),
          allowed: LOGIN_REFUSED,
        });
      }
      // The victim's real password next to a malformed email, and a real email next to near-misses.
      for (const email of [`${victim.email}\u0000`, `${victim.email}\u200b`, `\u202e${victim.email}`, `${victim.email}' --`]) {
        probes.push({
          label: `POST /auth/login body.email=${show(email)} with the real password`,
          send: () => json(http().post('/auth/login'), JSON.stringify({ email, password: victim.password })),
          allowed: LOGIN_REFUSED,
        });
      }
      for (const password of [`${victim.password}\u0000`, `${victim.password}\u200b`, victim.password.toUpperCase(), [victim.password], { toString: victim.password }]) {
        probes.push({
          label: `POST /auth/login body.password=${show(password)} (near miss)`,
          send: () => json(http().post('/auth/login'), JSON.stringify({ email: victim.email, password })),
          allowed: LOGIN_REFUSED,
        });
      }
      probes.push(...wholeBodies('/auth/login', LOGIN_REFUSED));
      await fuzzUnchanged(probes, 8);
    }, 60_000);

    it('POST /auth/refresh: the refreshToken field, forged and near-miss tokens, whole bodies', async () => {
      const probes: Probe[] = [];
      const forged = (prefix: string) => `${prefix}_${randomBytes(48).toString('base64url')}`;
      const tokens: Array<readonly [string, unknown]> = [
        ...VALUES,
        ['forged refresh token', forged('sr')],
        ['forged access-shaped token', forged('sa')],
        ['victim access token as refresh', victim.accessToken],
        ['victim refresh token + 1 char', `${victim.refreshToken}A`],
        ['victim refresh token - 1 char', victim.refreshToken.slice(0, -1)],
        ['victim refresh token with NUL', `${victim.refreshToken.slice(0, -1)}\u0000`],
        ['victim refresh token upper-cased', victim.refreshToken.toUpperCase()],
        ['victim refresh token padded', ` ${victim.refreshToken} `],
        ['victim refresh token in an array', [victim.refreshToken]],
        ['victim refresh token in an object', { refreshToken: victim.refreshToken }],
        ['600 chars', 's'.repeat(600)],
      ];
      for (const [label, value] of tokens) {
        probes.push({
          label: `POST /auth/refresh body.refreshToken=${label} ${show(value)}`,
          send: () => json(http().post('/auth/refresh'), JSON.stringify({ refreshToken: value })),
          allowed: LOGIN_REFUSED,
        });
      }
      for (const [label, extra] of EXTRA_KEYS) {
        probes.push({
          label: `POST /auth/refresh with ${label}`,
          send: () => json(http().post('/auth/refresh'), `{"refreshToken":${JSON.stringify(forged('sr'))},${extra}}`),
          allowed: LOGIN_REFUSED,
        });
      }
      probes.push({ label: 'POST /auth/refresh without a body', send: () => http().post('/auth/refresh'), allowed: LOGIN_REFUSED });
      probes.push(...wholeBodies('/auth/refresh', LOGIN_REFUSED));
      await fuzzUnchanged(probes);
    }, 60_000);

    it('POST /auth/password: every field (the route may not exist yet: 404 then)', async () => {
      const probes: Probe[] = [];
      const base = { currentPassword: 'wrong password fuzz', newPassword: 'new long password' };
      for (const [label, value] of VALUES) {
        for (const field of ['currentPassword', 'newPassword'] as const) {
          probes.push({
            label: `POST /auth/password body.${field}=${label} ${show(value)}`,
            send: () => json(bearer(http().post('/auth/password'), attacker), withField(base, field, value)),
            // 429: wrong current passwords count against the login backoff of the account.
            allowed: [400, 401, 403, 404, 429],
          });
        }
      }
      probes.push(...wholeBodies('/auth/password', [400, 401, 403, 404, 429], attacker));
      await fuzzUnchanged(probes, 8);
    }, 60_000);

    it('path parameters: DELETE /auth/sessions/:id, /admin/sessions/:id, /admin/users/:userId/sessions', async () => {
      const probes: Probe[] = [];
      const ids: Array<readonly [string, string]> = [
        ...STRINGS.filter(([, v]) => v !== ''),
        ['victim user id upper-cased', victim.userId.toUpperCase()],
        ['victim user id + space', `${victim.userId} `],
        ['victim user id + NUL', `${victim.userId}\u0000`],
        ['victim user id + RTL', `${victim.userId}\u202e`],
        ['victim user id padded to 200', victim.userId + 'x'.repeat(164)],
        ['victim user id SQL', `${victim.userId}' OR '1'='1`],
        ['victim session id + junk', `${victim.sessionId}x`],
        ['victim session id + NUL', `${victim.sessionId}\u0000`],
      ];
      // Raw (not re-encoded) path segments: broken percent-encoding and dot segments.
      const raw = ['%', '%zz', '%ff', '%c0%af', '%e2%80', '%2e%2e', '%2f', '%5c', '%00', '%0d%0a', 'a;b', '%3Bx%3D1', '*'];
      for (const [label, value] of ids) {
        probes.push(
          {
            label: `DELETE /auth/sessions/${label} ${show(value)}`,
            send: () => bearer(http().delete(`/auth/sessions/${pct(value)}`), attacker),
            allowed: [400, 404, 414, 431],
          },
          {
            label: `DELETE /admin/sessions/${label} ${show(value)}`,
            send: () => bearer(http().delete(`/admin/sessions/${pct(value)}`), admin),
            allowed: [400, 404, 414, 431],
          },
          {
            label: `DELETE /admin/users/${label} ${show(value)}/sessions`,
            send: () => bearer(http().delete(`/admin/users/${pct(value)}/sessions`), admin),
            allowed: [200, 400, 404, 414, 431],
            check: (res) => (res.body.revoked === 0 ? undefined : `revoked ${show(res.body.revoked)}`),
          },
        );
      }
      for (const segment of raw) {
        probes.push(
          { label: `DELETE /auth/sessions/${segment} (raw)`, send: () => bearer(http().delete(`/auth/sessions/${segment}`), attacker), allowed: [400, 404] },
          { label: `DELETE /admin/sessions/${segment} (raw)`, send: () => bearer(http().delete(`/admin/sessions/${segment}`), admin), allowed: [400, 404] },
          {
            label: `DELETE /admin/users/${segment}/sessions (raw)`,
            send: () => bearer(http().delete(`/admin/users/${segment}/sessions`), admin),
            allowed: [200, 400, 404],
            check: (res) => (res.body.revoked === 0 ? undefined : `revoked ${show(res.body.revoked)}`),
          },
        );
      }
      // Another user's live session, by a non-admin, in any case: 404 and still live.
      for (const id of [victim.sessionId, victim.sessionId.toUpperCase(), `{${victim.sessionId}}`, victim.sessionId.replace(/-/g, '')]) {
        probes.push({
          label: `DELETE /auth/sessions/${id} (the victim's session, as another user)`,
          send: () => bearer(http().delete(`/auth/sessions/${pct(id)}`), attacker),
          allowed: [400, 404],
        });
      }
      await fuzzUnchanged(probes);
    }, 60_000);

    it('query parameters: GET /admin/sessions (userId, page, limit) and GET /admin/audit', async () => {
      const probes: Probe[] = [];
      const emptyPage = (res: Response) =>
        Array.isArray(res.body.items) && typeof res.body.total === 'number' ? undefined : `bad page ${show(res.body)}`;
      for (const [label, value] of STRINGS) {
        for (const param of ['userId', 'page', 'limit']) {
          probes.push({
            label: `GET /admin/sessions?${param}=${label} ${show(value)}`,
            send: () => bearer(http().get(`/admin/sessions?${param}=${pct(value)}`), admin),
            allowed: [200, 400, 414, 431],
            check: (res) =>
              emptyPage(res) ??
              (param === 'userId' && res.body.items.length > 0 ? `${res.body.items.length} sessions for userId ${show(value)}` : undefined),
          });
        }
        for (const param of ['userId', 'type', 'page', 'limit']) {
          probes.push({
            label: `GET /admin/audit?${param}=${label} ${show(value)}`,
            send: () => bearer(http().get(`/admin/audit?${param}=${pct(value)}`), admin),
            allowed: [200, 400, 404, 414, 431],
          });
        }
      }
      const rawQueries = [
        'userId=a&userId=b',
        'userId[]=a',
        'userId[a]=b',
        'userId[__proto__][polluted]=yes',
        '__proto__[polluted]=yes',
        '__proto__=x',
        'constructor[prototype][polluted]=yes',
        'hasOwnProperty=x',
        'page=1&page=2',
        'page[]=1',
        'page=1e309',
        'page=1.5',
        'page=-0',
        'page=0x10',
        'page=%201',
        'page=9007199254740993',
        'page=1000000&limit=100',
        'page=1000001',
        'limit=1e2',
        'limit=100.0',
        'limit=NaN',
        'limit=Infinity',
        'limit=-Infinity',
        'limit=',
        'userId=',
        'userId=%',
        'userId=%ff',
        'userId=%c0%af',
        'page=%00',
        '&&&',
        '=x',
        'userId',
        `userId=${victim.userId.toUpperCase()}`,
        `userId=${victim.userId}%00`,
        `userId=${victim.userId}'%20OR%20'1'='1`,
      ];
      for (const query of rawQueries) {
        probes.push({
          label: `GET /admin/sessions?${query}`,
          send: () => bearer(http().get(`/admin/sessions?${query}`), admin),
          allowed: [200, 400],
          check: emptyPage,
        });
      }
      await fuzzUnchanged(probes);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }, 60_000);

    it('Authorization header: Bearer + every value, other schemes, near-miss tokens, on every session route', async () => {
      const routes: Array<readonly [method: 'get' | 'post' | 'delete', path: string]> = [
        ['get', '/ping/secure'],
        ['get', '/auth/me'],
        ['get', '/auth/sessions'],
        ['post', '/auth/logout'],
        ['delete', '/auth/sessions'],
        ['delete', `/auth/sessions/${victim.sessionId}`],
        ['get', '/admin/sessions'],
        ['delete', `/admin/sessions/${victim.sessionId}`],
        ['delete', `/admin/users/${victim.userId}/sessions`],
      ];
      const values: Array<readonly [string, string]> = [
        ...STRINGS.map(([label, v]) => [`Bearer ${label}`, `Bearer ${v}`] as const),
        ['Bearer only', 'Bearer'],
        ['Bearer and a space', 'Bearer '],
        ['bearer lower-case forged', `bearer sa_${randomBytes(48).toString('base64url')}`],
        ['Bearer forged', `Bearer sa_${randomBytes(48).toString('base64url')}`],
        ['Bearer victim refresh token', `Bearer ${victim.refreshToken}`],
        ['Bearer victim token + 1 char', `Bearer ${victim.accessToken}A`],
        ['Bearer victim token - 1 char', `Bearer ${victim.accessToken.slice(0, -1)}`],
        ['Bearer victim token upper-cased', `Bearer ${victim.accessToken.toUpperCase()}`],
        ['Bearer victim token, comma, junk', `Bearer ${victim.accessToken}, x`],
        ['Bearer victim token, space, junk', `Bearer ${victim.accessToken} x`],
        ['Bearer victim token with NUL', `Bearer ${victim.accessToken}\u0000`],
        ['Bearer victim token with RTL', `Bearer \u202e${victim.accessToken}`],
        ['Bearer victim token quoted', `Bearer "${victim.accessToken}"`],
        ['Bearer victim token after another scheme', `Basic ${victim.accessToken}`],
        ['Bearer= victim token', `Bearer=${victim.accessToken}`],
        ['Bearer: victim token', `Bearer:${victim.accessToken}`],
        ['Basic admin credentials', `Basic ${Buffer.from(`${adminEmail}:${adminPassword}`).toString('base64')}`],
        ['Basic', 'Basic'],
        ['Digest', 'Digest username="admin", realm="x", nonce="y", uri="/", response="z"'],
        ['Token', 'Token abc'],
        ['Negotiate', 'Negotiate YIIB'],
        ['AWS', 'AWS4-HMAC-SHA256 Credential=x'],
        ['empty', ''],
        ['20 kB', `Bearer ${KB20}`],
      ];
      const probes: Probe[] = [];
      for (const [method, path] of routes) {
        for (const [label, value] of values) {
          const wire = headerValue(value);
          probes.push({
            label: `${method.toUpperCase()} ${path} Authorization: ${label} ${show(value)}`,
            send: () => http()[method](path).set('Authorization', wire ?? value),
            allowed: [400, 401, 403, 431],
            clientMayRefuse: wire === null,
          });
        }
        // A token in the query string is ignored.
        probes.push({
          label: `${method.toUpperCase()} ${path}?access_token=<victim token>`,
          send: () => http()[method](`${path}?access_token=${victim.accessToken}&token=${victim.accessToken}`),
          allowed: [400, 401],
        });
      }
      await fuzzUnchanged(probes);
    }, 60_000);

    it('cookies (__Host-access, __Host-csrf, __Secure-refresh) and X-CSRF-Token', async () => {
      const probes: Probe[] = [];
      const cookieValues: Array<readonly [string, string]> = [
        ...STRINGS.filter(([, v]) => v.length < 10_000).map(([label, v]) => [`${label} (encoded)`, pct(v)] as const),
        ...STRINGS.filter(([, v]) => v.length < 10_000 && headerValue(v) !== null && !/[;,]/.test(v)).map(
          ([label, v]) => [`${label} (raw)`, headerValue(v)!] as const,
        ),
        ['JSON cookie object', 'j:{}'],
        ['JSON cookie number', 'j:1'],
        ['JSON cookie null', 'j:null'],
        ['JSON cookie array', 'j:[1,2]'],
        ['JSON cookie string', 'j:"x"'],
        ['JSON cookie broken', 'j:{'],
        ['JSON cookie __proto__', 'j:{"__proto__":{"polluted":"yes"}}'],
        ['signed cookie', 's:abc.def'],
        ['quoted', '"abc"'],
        ['broken percent', '%'],
        ['forged access token', `sa_${randomBytes(48).toString('base64url')}`],
        ['forged refresh token', `sr_${randomBytes(48).toString('base64url')}`],
      ];
      const refusable = (cookie: string) => headerValue(cookie) === null;
      for (const [label, v] of cookieValues) {
        // A malformed access cookie: 401 on a safe route; on an unsafe one 403 (no CSRF) or 401.
        probes.push(
          {
            label: `GET /ping/secure Cookie __Host-access=${label}`,
            send: () => http().get('/ping/secure').set('Cookie', `__Host-access=${v}`),
            allowed: [400, 401],
            clientMayRefuse: refusable(v),
          },
          {
            label: `POST /auth/logout Cookie __Host-access=${label} with matching CSRF`,
            send: () =>
              http().post('/auth/logout').set('Cookie', `__Host-access=${v}; __Host-csrf=${csrf}`).set('X-CSRF-Token', csrf),
            allowed: [400, 401, 403],
            clientMayRefuse: refusable(v),
          },
          {
            label: `DELETE /auth/sessions Cookie __Host-access=${label} without CSRF`,
            send: () => http().delete('/auth/sessions').set('Cookie', `__Host-access=${v}`),
            allowed: [400, 401, 403],
            clientMayRefuse: refusable(v),
          },
          // The victim's real access cookie with a malformed CSRF cookie: 403, the session stays.
          {
            label: `POST /auth/logout Cookie victim __Host-access, __Host-csrf=${label}, X-CSRF-Token well-formed`,
            send: () =>
              http().post('/auth/logout').set('Cookie', `__Host-access=${victim.accessToken}; __Host-csrf=${v}`).set('X-CSRF-Token', csrf),
            allowed: [403],
            clientMayRefuse: refusable(v),
          },
          {
            label: `DELETE /auth/sessions Cookie victim __Host-access, __Host-csrf=${label}, no X-CSRF-Token`,
            send: () => http().delete('/auth/sessions').set('Cookie', `__Host-access=${victim.accessToken}; __Host-csrf=${v}`),
            allowed: [403],
            clientMayRefuse: refusable(v),
          },
          // A malformed refresh cookie with a matching CSRF pair: 401.
          {
            label: `POST /auth/refresh Cookie __Secure-refresh=${label} with matching CSRF`,
            send: () =>
              http().post('/auth/refresh').set('Cookie', `__Secure-refresh=${v}; __Host-csrf=${csrf}`).set('X-CSRF-Token', csrf),
            allowed: [...LOGIN_REFUSED, 403],
            clientMayRefuse: refusable(v),
          },
          // The victim's real refresh cookie with a malformed CSRF cookie: 403 and no rotation.
          {
            label: `POST /auth/refresh Cookie victim __Secure-refresh, __Host-csrf=${label}, X-CSRF-Token well-formed`,
            send: () =>
              http().post('/auth/refresh').set('Cookie', `__Secure-refresh=${victim.refreshToken}; __Host-csrf=${v}`).set('X-CSRF-Token', csrf),
            allowed: [403],
            clientMayRefuse: refusable(v),
          },
        );
      }
      // X-CSRF-Token: every header-safe value (none equals the CSRF cookie): 403, nothing revoked.
      for (const [label, value] of STRINGS) {
        const wire = headerValue(value);
        for (const [method, path, cookie] of [
          ['post', '/auth/logout', `__Host-access=${victim.accessToken}; __Host-csrf=${csrf}`],
          ['delete', '/auth/sessions', `__Host-access=${victim.accessToken}; __Host-csrf=${csrf}`],
          ['delete', `/auth/sessions/${victim.sessionId}`, `__Host-access=${victim.accessToken}; __Host-csrf=${csrf}`],
          ['post', '/auth/refresh', `__Secure-refresh=${victim.refreshToken}; __Host-csrf=${csrf}`],
        ] as const) {
          probes.push({
            label: `${method.toUpperCase()} ${path} victim cookies, X-CSRF-Token: ${label} ${show(value)}`,
            send: () => http()[method](path).set('Cookie', cookie).set('X-CSRF-Token', wire ?? value),
            allowed: [403, 431],
            clientMayRefuse: wire === null,
          });
        }
      }
      // Cookie-header oddities around the victim's access cookie.
      for (const header of [
        `__Host-access=; __Host-access=${victim.accessToken}`,
        `__Host-access=${victim.accessToken}; __Host-csrf=; x=${csrf}`,
        `__host-access=${victim.accessToken}`,
        `__Host-access =${victim.accessToken}`,
        `=${victim.accessToken}`,
        ';;;;',
        `__Host-access=${victim.accessToken}; __Host-csrf=${csrf}, __Host-csrf=${csrf}`,
      ]) {
        probes.push({
          label: `POST /auth/logout Cookie: ${show(header)} without X-CSRF-Token`,
          send: () => http().post('/auth/logout').set('Cookie', header),
          allowed: [400, 401, 403],
        });
      }
      await fuzzUnchanged(probes);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }, 60_000);

    it('header values Node\'s client refuses (NUL, CR, LF), sent on a raw socket: 4xx or a closed connection', async () => {
      const before = await snapshot();
      const start = fuzz.violations.length;
      const body = JSON.stringify({ email: victim.email, password: 'wrong password fuzz' });
      const requests: Array<readonly [string, Buffer]> = [];
      const ua = (fuzzed: string) => (fuzzed === 'User-Agent' ? '' : `User-Agent: ${USER_AGENT_CHROME_MAC}\r\n`);
      const req = (label: string, head: string, payload = '') =>
        requests.push([label, Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(payload, 'utf8')])]);
      for (const [name, value] of [
        ['Authorization', `Bearer ${victim.accessToken}\u0000`],
        ['Authorization', `Bearer a\rb`],
        ['X-CSRF-Token', `${csrf}\u0000`],
        ['X-CSRF-Token', `a\nb`],
        ['User-Agent', 'a\u0000b'],
        ['X-Device-Name', 'a\rb'],
        ['X-Device-Type', 'a\u0001b'],
        ['X-Forwarded-For', '1.2.3.4\u0000'],
        ['Cookie', `__Host-access=${victim.accessToken}\u0000`],
        ['X-Device-Name', 'a\r\n b'],
        ['User-Agent', '\u00ff\u00fe\u00c0\u00af'],
      ]) {
        req(
          `POST /auth/logout ${name}: ${show(value)}`,
          `POST /auth/logout HTTP/1.1\r\nHost: x\r\nCookie: __Host-access=${victim.accessToken}; __Host-csrf=${csrf}\r\n${ua(name)}${name}: ${value}\r\nConnection: close\r\n\r\n`,
        );
        req(
          `POST /auth/login ${name}: ${show(value)}`,
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${ua(name)}${name}: ${value}\r\nConnection: close\r\n\r\n`,
          body,
        );
      }
      req('GET /auth/sessions/%00', `GET /auth/sessions/%00 HTTP/1.1\r\nHost: x\r\n${ua('')}Authorization: Bearer ${attacker.accessToken}\r\nConnection: close\r\n\r\n`);
      req('GET with NUL in the path', `GET /ping/\u0000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      req('two different Content-Lengths', `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}`);
      req('bad chunk', `POST /auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`);
      req('invalid UTF-8 body', `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nConnection: close\r\n\r\n`, '');
      requests[requests.length - 1] = [
        'invalid UTF-8 body',
        Buffer.concat([requests[requests.length - 1][1], Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]),
      ];
      for (const [label, bytes] of requests) {
        const answer = await rawExchange(port, bytes);
        fuzz.sent++;
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
        // 0: the server closed without answering, which is a refusal too.
        if (status !== 0 && (status < 400 || status >= 500)) {
          fuzz.violations.push(`raw ${label} → ${answer.split('\r\n')[0]} ${show(answer.split('\r\n\r\n')[1] ?? '')}`);
        }
      }
      expect(fuzz.violations.slice(start)).toEqual([]);
      expect(await snapshot()).toEqual(before);
    }, 60_000);

    it('content types and sizes: 415 for non-JSON, 413 over 100 kB, on every body route', async () => {
      const probes: Probe[] = [];
      const big = JSON.stringify({ email: victim.email, password: 'p'.repeat(150_000) });
      for (const path of ['/auth/register', '/auth/login', '/auth/refresh']) {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'json', '']) {
          probes.push({
            label: `POST ${path} Content-Type: ${show(type)}`,
            send: () => http().post(path).set('Content-Type', type).send('{"email":"a@example.com","password":"long enough password"}'),
            allowed: [400, 415],
          });
        }
        for (const charset of ['utf-16', 'latin1', 'x-unknown', 'utf-8"']) {
          probes.push({
            label: `POST ${path} Content-Type: application/json; charset=${charset}`,
            send: () => http().post(path).set('Content-Type', `application/json; charset=${charset}`).send('{}'),
            allowed: [400, 401, 415],
          });
        }
        probes.push({ label: `POST ${path} 150 kB body`, send: () => json(http().post(path), big), allowed: [413] });
      }
      await fuzzUnchanged(probes, 6);
    }, 60_000);

    it('property: arbitrary login bodies never 5xx and never log anyone in', async () => {
      const before = await snapshot();
      const start = fuzz.violations.length;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.anything(),
            fc.record(
              { email: fc.oneof(fc.constant(victim.email), fc.anything()), password: fc.anything(), deviceName: fc.anything() },
              { requiredKeys: [] },
            ),
          ),
          async (value) => {
            const raw = JSON.stringify(value);
            const status = await fuzz.one({
              label: `POST /auth/login body ${show(value)}`,
              send: () => (raw === undefined ? http().post('/auth/login') : json(http().post('/auth/login'), raw)),
              allowed: LOGIN_REFUSED,
            });
            expect(status === undefined || (status >= 400 && status < 500)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
      expect(fuzz.violations.slice(start)).toEqual([]);
      expect(await snapshot()).toEqual(before);
    }, 60_000);

    it('property: arbitrary refresh bodies never 5xx and never rotate anything', async () => {
      const before = await snapshot();
      const start = fuzz.violations.length;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.anything(),
            fc.record({ refreshToken: fc.anything() }),
            fc.record({ refreshToken: fc.string({ unit: 'binary', minLength: 60, maxLength: 70 }).map((s) => `sr_${s}`) }),
          ),
          async (value) => {
            const raw = JSON.stringify(value);
            const status = await fuzz.one({
              label: `POST /auth/refresh body ${show(value)}`,
              send: () => (raw === undefined ? http().post('/auth/refresh') : json(http().post('/auth/refresh'), raw)),
              allowed: LOGIN_REFUSED,
            });
            expect(status === undefined || (status >= 400 && status < 500)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
      expect(fuzz.violations.slice(start)).toEqual([]);
      expect(await snapshot()).toEqual(before);
    }, 60_000);

    it('property: arbitrary register names and passwords (email taken) never 5xx and create nobody', async () => {
      const before = await snapshot();
      const start = fuzz.violations.length;
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              name: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.anything()),
              password: fc.oneof(fc.string({ unit: 'binary', minLength: 8, maxLength: 40 }), fc.anything()),
            },
            { requiredKeys: [] },
          ),
          async (fields) => {
            const status = await fuzz.one({
              label: `POST /auth/register body ${show({ email: victim.email, ...fields })}`,
              send: () => json(http().post('/auth/register'), JSON.stringify({ email: victim.email, ...fields })),
              allowed: [400, 409],
            });
            expect(status === undefined || (status >= 400 && status < 500)).toBe(true);
          },
        ),
        { numRuns: 100 },
      );
      expect(fuzz.violations.slice(start)).toEqual([]);
      expect(await snapshot()).toEqual(before);
    }, 60_000);

    it('property: arbitrary admin query strings and user ids never 5xx and revoke nothing', async () => {
      const before = await snapshot();
      const start = fuzz.violations.length;
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.oneof(fc.constantFrom('userId', 'page', 'limit', '__proto__', 'constructor'), fc.string({ maxLength: 8 })),
            fc.string({ unit: 'binary', maxLength: 40 }),
            { maxKeys: 4 },
          ),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
          async (query, userId) => {
            const qs = Object.entries(query).map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&');
            const listed = await fuzz.one({
              label: `GET /admin/sessions?${qs}`,
              send: () => bearer(http().get(`/admin/sessions?${qs}`), admin),
              allowed: [200, 400],
            });
            const revoked = await fuzz.one({
              label: `DELETE /admin/users/${show(userId)}/sessions`,
              send: () => bearer(http().delete(`/admin/users/${pct(userId)}/sessions`), admin),
              allowed: [200, 400, 404],
              check: (res) => (res.body.revoked === 0 ? undefined : `revoked ${show(res.body.revoked)}`),
            });
            for (const status of [listed, revoked]) expect(status === undefined || status < 500).toBe(true);
          },
        ),
        { numRuns: 100 },
      );
      expect(fuzz.violations.slice(start)).toEqual([]);
      expect(await snapshot()).toEqual(before);
    }, 60_000);

    it('afterwards: nothing changed, the victim is still logged in, and no prototype was polluted', async () => {
      expect.soft(await snapshot()).toEqual(initial);
      // Whatever was sent, the seeded admin is the only admin.
      const admins = await query<{ email: string }>(`SELECT email FROM users WHERE 'admin' = ANY(roles)`);
      expect(admins).toEqual([{ email: adminEmail.toLowerCase() }]);
      const me = await bearer(http().get('/auth/me'), victim);
      expect(me.status).toBe(200);
      expect(me.body.user.id).toBe(victim.userId);
      expect(me.body.session.id).toBe(victim.sessionId);
      await bearer(http().get('/ping/secure'), victim).expect(200);
      // The victim's refresh token was never rotated away: it still works (this changes state, so it is last).
      const refreshed = await json(http().post('/auth/refresh'), JSON.stringify({ refreshToken: victim.refreshToken }));
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.sessionId).toBe(victim.sessionId);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('roles');
    });
  });

  /** Whole-body values (arrays, strings, numbers, broken JSON…) for a JSON route. */
  function wholeBodies(path: string, allowed: readonly number[], as?: LoggedIn): Probe[] {
    return RAW_BODIES.map(([label, raw]) => ({
      label: `POST ${path} whole body: ${label} ${show(raw)}`,
      send: () => {
        const t = http().post(path);
        return json(as ? bearer(t, as) : t, raw);
      },
      allowed: [...allowed, 413],
    }));
  }
});
