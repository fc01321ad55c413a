import { sessionCacheKey } from '../../src/session/adapters/redis/redis-cache.tier';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { SessionStore } from '../../src/session';
import {
  login,
  LoggedIn,
  registerAndLogin,
  resetDatabase,
  RunningApp,
  sql,
  startApp,
  uniqueEmail,
  USER_AGENT_CHROME_MAC,
} from '../support/app-harness';
import { TEST_REDIS_URL } from '../support/test-env';
import { sleep } from '../support/timing';

/**
 * OWASP ASVS 5.0 security suite (see SECURITY.md for the full mapping). Every test name starts
 * with the requirement it checks; each one fails if the defence it names is taken away.
 * Refresh-token rotation is checked against ASVS V10.4.5 and RFC 9700 §4.14.2.
 */

const PASSWORD = 'correct horse battery';
const INVALID_TOKEN = { statusCode: 401, message: 'Invalid or expired token', error: 'Unauthorized' };
const INVALID_CREDENTIALS = { statusCode: 401, message: 'Invalid credentials', error: 'Unauthorized' };
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const BEARER = { type: 'bearer' } as const;

/** What the store and the cache key a token by (README, "Tokens and storage"). */
const sha256 = (token: string) => createHash('sha256').update(token).digest('base64url');

interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flag attributes map to `true`. */
  attributes: Record<string, string | true>;
}

function setCookies(res: Response): SetCookie[] {
  const lines = ([] as string[]).concat((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []);
  return lines.map((line) => {
    const [pair, ...rest] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const attribute of rest) {
      const at = attribute.indexOf('=');
      if (at === -1) attributes[attribute.toLowerCase()] = true;
      else attributes[attribute.slice(0, at).toLowerCase()] = attribute.slice(at + 1);
    }
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
  });
}

const jarOf = (res: Response): Record<string, string> =>
  Object.fromEntries(setCookies(res).map((c) => [c.name, c.value]));
const cookieHeader = (jar: Record<string, string>, names = Object.keys(jar)) =>
  names.map((name) => `${name}=${jar[name]}`).join('; ');

async function expectRefused(http: TestAgent, user: Pick<LoggedIn, 'accessToken' | 'refreshToken'>): Promise<void> {
  const access = await http.get('/ping/secure').auth(user.accessToken, BEARER);
  expect(access.status).toBe(401);
  expect(access.body).toEqual(INVALID_TOKEN);
  expect(access.headers['www-authenticate']).toBe('Bearer');
  const refresh = await http.post('/auth/refresh').send({ refreshToken: user.refreshToken });
  expect(refresh.status).toBe(401);
  expect(refresh.body).toEqual(INVALID_TOKEN);
}

describe('OWASP ASVS 5.0 (V6 Authentication, V7 Session Management) at the HTTP level', () => {
  let redis: Redis;

  beforeAll(async () => {
    await resetDatabase();
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await redis.quit();
  });

  /** Proves a token is being served from the Redis cache, so a revocation must reach the cache too. */
  async function expectCached(running: RunningApp, accessToken: string): Promise<void> {
    const keys = await redis.keys(sessionCacheKey(running.env.REDIS_KEY_PREFIX, sha256(accessToken)));
    expect(keys.length).toBeGreaterThan(0);
  }

  describe('a fresh deployment', () => {
    it('V6.3.2 no default account exists: without ADMIN_EMAIL/ADMIN_PASSWORD the app starts with no users, and well-known default credentials do not log in', async () => {
      const fresh = await startApp();
      try {
        const [{ n }] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM users');
        expect(n).toBe(0);
        for (const [email, password] of [
          ['admin@example.com', 'admin'],
          ['root@example.com', 'root'],
          ['admin@example.com', 'password'],
          ['sa@example.com', 'changeme'],
        ]) {
          const res = await fresh.http.post('/auth/login').send({ email, password });
          expect(res.status).toBe(401);
          expect(res.body).toEqual(INVALID_CREDENTIALS);
        }
      } finally {
        await fresh.close();
      }
    });
  });

  // The issuing app is closed before the verifying one starts, so the check cannot depend on
  // how several apps in one process share passport's global strategy registry (SECURITY.md §5.7).
  describe('a token this server did not issue', () => {
    it('V7.2.1 tokens are verified by the server with its own key: a token issued under another key is refused although its session exists', async () => {
      const issuer = await startApp({ SESSION_SECRET: 'a-different-secret-that-is-long-enough-9876543210' });
      const foreign = await (async () => {
        try {
          const issued = await registerAndLogin(issuer.http);
          await issuer.http.get('/ping/secure').auth(issued.accessToken, BEARER).expect(200);
          return issued;
        } finally {
          await issuer.close();
        }
      })();
      const verifier = await startApp();
      try {
        const rows = await sql<{ revoked_at: Date | null }>('SELECT revoked_at FROM sessions WHERE id = $1', [foreign.sessionId]);
        expect(rows).toEqual([{ revoked_at: null }]); // same database: the session is there and live
        await expectRefused(verifier.http, foreign);
        // Refused before any lookup: nothing was revoked either.
        const after = await sql<{ revoked_at: Date | null }>('SELECT revoked_at FROM sessions WHERE id = $1', [foreign.sessionId]);
        expect(after).toEqual([{ revoked_at: null }]);
      } finally {
        await verifier.close();
      }
    });
  });

  describe('tokens, termination, session management and passwords', () => {
    const ADMIN_EMAIL = uniqueEmail('admin');
    const ADMIN_PASSWORD = 'an admin password long enough';
    let running: RunningApp;
    let http: TestAgent;

    beforeAll(async () => {
      // A 1 s refresh grace so reuse detection can be shown without a 10 s wait.
      running = await startApp({ ADMIN_EMAIL, ADMIN_PASSWORD, SESSION_REFRESH_GRACE: '1' });
      http = running.http;
    });
    afterAll(() => running.close());

    it('V7.2.3 access and refresh tokens carry ≥128 bits from a CSPRNG and are unique', async () => {
      const a = await registerAndLogin(http);
      const b = await registerAndLogin(http);
      const logins: LoggedIn[] = [a, b];
      for (let i = 0; i < 8; i++) logins.push(await login(http, a.email, a.password), await login(http, b.email, b.password));
      const minted = logins.flatMap((l) => [l.accessToken, l.refreshToken]);
      const refreshed: string[] = [];
      for (const l of logins.slice(-4)) {
        const res = await http.post('/auth/refresh').send({ refreshToken: l.refreshToken }).expect(200);
        refreshed.push(res.body.accessToken, res.body.refreshToken);
      }
      const all = [...minted, ...refreshed];
      expect(new Set(all).size).toBe(all.length);
      expect(new Set(logins.map((l) => l.sessionId)).size).toBe(logins.length);
      for (const token of all) {
        expect(token).toMatch(/^s[ar]_[A-Za-z0-9_-]{64}$/);
        expect(Buffer.from(token.slice(3), 'base64url')).toHaveLength(48);
      }
      // The first 32 bytes of a minted token are its random part (README: 32 random bytes + tag).
      const randoms = minted.map((t) => Buffer.from(t.slice(3), 'base64url').subarray(0, 32));
      for (let i = 0; i < 32; i++) {
        expect(new Set(randoms.map((r) => r[i])).size).toBeGreaterThan(1); // no fixed or padded byte
      }
      const bits = (buf: Buffer) => [...buf].reduce((n, byte) => n + byte.toString(2).replace(/0/g, '').length, 0);
      const ones = randoms.reduce((n, r) => n + bits(r), 0);
      const ratio = ones / (randoms.length * 256);
      expect(ratio).toBeGreaterThan(0.45);
      expect(ratio).toBeLessThan(0.55);
      // Any two random parts differ in many of their 256 bits (a counter or a shared seed would not).
      let closest = 256;
      for (let i = 0; i < randoms.length; i++) {
        for (let j = i + 1; j < randoms.length; j++) {
          const xor = Buffer.from(randoms[i].map((byte, k) => byte ^ randoms[j][k]));
          closest = Math.min(closest, bits(xor));
        }
      }
      expect(closest).toBeGreaterThan(64);
    });

    it('V7.2.4 every login opens a new session with new tokens; tokens the client already holds are never adopted (no session fixation)', async () => {
      const attacker = await registerAndLogin(http);
      const email = uniqueEmail('victim');
      await http.post('/auth/register').send({ email, password: PASSWORD }).expect(201);
      // The attacker planted their own session cookies (and header) in the victim's browser.
      const res = await http
        .post('/auth/login')
        .set('Cookie', `__Host-access=${attacker.accessToken}; __Secure-refresh=${attacker.refreshToken}; __Host-csrf=planted`)
        .set('Authorization', `Bearer ${attacker.accessToken}`)
        .send({ email, password: PASSWORD })
        .expect(200);
      expect(res.body.sessionId).not.toBe(attacker.sessionId);
      expect([res.body.accessToken, res.body.refreshToken]).not.toContain(attacker.accessToken);
      expect([res.body.accessToken, res.body.refreshToken]).not.toContain(attacker.refreshToken);
      const jar = jarOf(res);
      expect(jar['__Host-access']).toBe(res.body.accessToken);
      expect(jar['__Secure-refresh']).toBe(res.body.refreshToken);
      expect(jar['__Host-csrf']).not.toBe('planted');
      // The planted token still proves only the attacker's identity; the victim's is new.
      const theirs = await http.get('/auth/me').auth(attacker.accessToken, BEARER).expect(200);
      expect(theirs.body.user.id).toBe(attacker.userId);
      const mine = await http.get('/auth/me').auth(res.body.accessToken, BEARER).expect(200);
      expect(mine.body.user.email).toBe(email);
      expect(mine.body.session.id).toBe(res.body.sessionId);
      // Authenticating again is again a new session with new tokens.
      const again = await login(http, email, PASSWORD);
      expect(again.sessionId).not.toBe(res.body.sessionId);
      expect(again.accessToken).not.toBe(res.body.accessToken);
      expect(again.refreshToken).not.toBe(res.body.refreshToken);
    });

    it('V7.2.4 re-authentication terminates the session the client was using (the tokens it presents), and nobody else\'s', async () => {
      const user = await registerAndLogin(http);
      const other = await registerAndLogin(http);
      const res = await http
        .post('/auth/login')
        .set('Cookie', `__Host-access=${other.accessToken}; __Secure-refresh=${user.refreshToken}`)
        .send({ email: user.email, password: user.password })
        .expect(200);
      await http.get('/ping/secure').auth(user.accessToken, BEARER).expect(401);
      await http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      await http.get('/ping/secure').auth(other.accessToken, BEARER).expect(200);
      await http.get('/ping/secure').auth(res.body.accessToken, BEARER).expect(200);
    });

    it('V7.4.1 logout ends the session at once: its access token (even while cached in Redis) and its refresh token are refused from then on', async () => {
      const user = await registerAndLogin(http);
      await http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
      await expectCached(running, user.accessToken);
      await http.post('/auth/logout').auth(user.accessToken, BEARER).expect(204);
      await expectRefused(http, user);
      for (const path of ['/auth/me', '/auth/sessions']) {
        await http.get(path).auth(user.accessToken, BEARER).expect(401);
      }
      await http.post('/auth/logout').auth(user.accessToken, BEARER).expect(401);
      const [row] = await sql<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [user.sessionId]);
      expect(row.revoked_reason).toBe('logout');
    });

    it('V7.4.1 a revocation racing a validation still disallows further use: a read that saw the session live cannot put it back in the cache', async () => {
      const store = running.app.get(SessionStore, { strict: false });
      const owner = await registerAndLogin(http);
      const victim = await login(http, owner.email, owner.password);
      const target = sha256(victim.accessToken);
      let readDone!: () => void;
      let release!: () => void;
      const read = new Promise<void>((resolve) => (readDone = resolve));
      const gate = new Promise<void>((resolve) => (release = resolve));
      const original = store.findByAccessHash.bind(store);
      // Simulates a slow PostgreSQL read: the row is read (live), then the answer is late.
      (store as { findByAccessHash: SessionStore['findByAccessHash'] }).findByAccessHash = async (hash) => {
        const record = await original(hash);
        if (hash === target) {
          readDone();
          await gate;
        }
        return record;
      };
      try {
        const inFlight = http.get('/ping/secure').auth(victim.accessToken, BEARER).then((r) => r);
        await read;
        await http.delete(`/auth/sessions/${victim.sessionId}`).auth(owner.accessToken, BEARER).expect(204);
        release();
        await inFlight; // began before the revocation, so it may still succeed
      } finally {
        release();
        Reflect.deleteProperty(store, 'findByAccessHash');
      }
      await expectRefused(http, victim);
    });

    it('V7.5.2 users can view their live sessions and end any one or all the others; ended sessions stop at once', async () => {
      const a = await registerAndLogin(http);
      const b = await login(http, a.email, a.password);
      const c = await login(http, a.email, a.password);
      const stranger = await registerAndLogin(http);
      for (const s of [b, c]) await http.get('/ping/secure').auth(s.accessToken, BEARER).expect(200);
      await expectCached(running, b.accessToken);

      const list = await http.get('/auth/sessions').auth(a.accessToken, BEARER).expect(200);
      expect(list.body.map((s: { id: string }) => s.id).sort()).toEqual([a.sessionId, b.sessionId, c.sessionId].sort());
      expect(list.body.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id)).toEqual([a.sessionId]);
      const shown = JSON.stringify(list.body);
      for (const secret of [a, b, c].flatMap((s) => [s.accessToken, s.refreshToken, sha256(s.accessToken), sha256(s.refreshToken)])) {
        expect(shown).not.toContain(secret);
      }

      await http.delete(`/auth/sessions/${b.sessionId}`).auth(a.accessToken, BEARER).expect(204);
      await expectRefused(http, b);
      // Another user's session cannot be ended (nor told apart from an unknown one).
      await http.delete(`/auth/sessions/${stranger.sessionId}`).auth(a.accessToken, BEARER).expect(404);
      await http.get('/ping/secure').auth(stranger.accessToken, BEARER).expect(200);

      const all = await http.delete('/auth/sessions').auth(a.accessToken, BEARER).expect(200);
      expect(all.body).toEqual({ revoked: 1 });
      await expectRefused(http, c);
      await http.get('/ping/secure').auth(a.accessToken, BEARER).expect(200);
      const left = await http.get('/auth/sessions').auth(a.accessToken, BEARER).expect(200);
      expect(left.body.map((s: { id: string }) => s.id)).toEqual([a.sessionId]);
    });

    it('V7.4.5 an administrator can end one session or every session of a user; cached access tokens and refresh tokens stop at once', async () => {
      const admin = await login(http, ADMIN_EMAIL, ADMIN_PASSWORD);
      const u1 = await registerAndLogin(http);
      const u2 = await login(http, u1.email, u1.password);
      const u3 = await login(http, u1.email, u1.password);
      const bystander = await registerAndLogin(http);
      for (const s of [u1, u2, u3, bystander]) await http.get('/ping/secure').auth(s.accessToken, BEARER).expect(200);

      await http.delete(`/admin/sessions/${u1.sessionId}`).auth(admin.accessToken, BEARER).expect(204);
      await expectRefused(http, u1);
      await http.get('/ping/secure').auth(u2.accessToken, BEARER).expect(200);

      const res = await http.delete(`/admin/users/${u1.userId}/sessions`).auth(admin.accessToken, BEARER).expect(200);
      expect(res.body).toEqual({ revoked: 2 });
      await expectRefused(http, u2);
      await expectRefused(http, u3);
      await http.get('/ping/secure').auth(bystander.accessToken, BEARER).expect(200);
      // A user is not an administrator.
      await http.delete(`/admin/users/${bystander.userId}/sessions`).auth(bystander.accessToken, BEARER).expect(403);
    });

    it('V7.4.3 a password change ends every other session of the user (cached access tokens and refresh tokens included) and keeps the current one', async () => {
      const current = await registerAndLogin(http);
      const other = await login(http, current.email, current.password);
      const bystander = await registerAndLogin(http);
      await http.get('/ping/secure').auth(other.accessToken, BEARER).expect(200);
      await expectCached(running, other.accessToken);
      await http
        .post('/auth/password')
        .auth(current.accessToken, BEARER)
        .send({ currentPassword: current.password, newPassword: 'a brand new password' })
        .expect(204);
      await expectRefused(http, other);
      await http.get('/ping/secure').auth(current.accessToken, BEARER).expect(200);
      await http.post('/auth/refresh').send({ refreshToken: current.refreshToken }).expect(200);
      await http.get('/ping/secure').auth(bystander.accessToken, BEARER).expect(200);
    });

    it('V6.2.3 changing the password requires the current password as well as the new one; a wrong one changes nothing', async () => {
      const user = await registerAndLogin(http);
      await http.post('/auth/password').auth(user.accessToken, BEARER).send({ newPassword: 'a brand new password' }).expect(400);
      const wrong = await http
        .post('/auth/password')
        .auth(user.accessToken, BEARER)
        .send({ currentPassword: 'not the password', newPassword: 'a brand new password' });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual(INVALID_CREDENTIALS);
      await http.post('/auth/login').send({ email: user.email, password: 'a brand new password' }).expect(401);
      await login(http, user.email, user.password);
    });

    it('V7.5.1 a password change needs a login within the last 10 minutes: an older session, even just refreshed, is refused until the user logs in again', async () => {
      const user = await registerAndLogin(http);
      await sql(`UPDATE sessions SET authenticated_at = now() - interval '11 minutes' WHERE id = $1`, [user.sessionId]);
      const refreshed = await http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      const stale = await http
        .post('/auth/password')
        .auth(refreshed.body.accessToken, BEARER)
        .send({ currentPassword: user.password, newPassword: 'a brand new password' });
      expect(stale.status).toBe(401);
      expect(stale.body.message).toBe('Recent authentication required');
      expect(stale.headers['www-authenticate']).toContain('insufficient_user_authentication');
      await http.post('/auth/login').send({ email: user.email, password: 'a brand new password' }).expect(401);
      const fresh = await login(http, user.email, user.password);
      await http
        .post('/auth/password')
        .auth(fresh.accessToken, BEARER)
        .send({ currentPassword: user.password, newPassword: 'a brand new password' })
        .expect(204);
    });

    // 96 characters: spaces at both ends, quotes, non-ASCII letters, an emoji, mixed case.
    const LONG_PASSWORD = `  Pässwörd phrase, "quoted" & MixedCase 🔑 ${'z'.repeat(50)}  `;

    it('V6.2.9 passwords of 64 characters and more, of any composition, can be set and used', async () => {
      expect(LONG_PASSWORD.length).toBeGreaterThanOrEqual(64);
      const email = uniqueEmail('long');
      await http.post('/auth/register').send({ email, password: LONG_PASSWORD }).expect(201);
      const user = await login(http, email, LONG_PASSWORD);
      const symbols = ` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~ ${'€'.repeat(40)} ${'0'.repeat(40)}`;
      await http
        .post('/auth/password')
        .auth(user.accessToken, BEARER)
        .send({ currentPassword: LONG_PASSWORD, newPassword: symbols })
        .expect(204);
      await login(http, email, symbols);
    });

    it('V6.2.8 a password is verified exactly as received: trimmed, case-changed or truncated variants are refused', async () => {
      const email = uniqueEmail('exact');
      await http.post('/auth/register').send({ email, password: LONG_PASSWORD }).expect(201);
      await login(http, email, LONG_PASSWORD);
      const variants = [
        LONG_PASSWORD.trim(),
        LONG_PASSWORD.toUpperCase(), // also catches lower-casing: both would fold to one form
        Buffer.from(LONG_PASSWORD).subarray(0, 72).toString(), // bcrypt's 72-byte limit
        LONG_PASSWORD.slice(0, 72),
        LONG_PASSWORD.slice(0, 64),
      ];
      expect(new Set(variants).size).toBe(5); // five free failures: no backoff in the way
      for (const password of variants) {
        const res = await http.post('/auth/login').send({ email, password });
        expect(res.status).toBe(401);
      }
      await login(http, email, LONG_PASSWORD);
    });

    it('V6.3.8 failed logins do not tell whether an account exists: same 401 for an unknown email and a wrong password, and the failure backoff treats unknown emails alike', async () => {
      const email = uniqueEmail('real');
      const ghost = uniqueEmail('ghost');
      await http.post('/auth/register').send({ email, password: PASSWORD }).expect(201);
      for (let i = 0; i < 6; i++) {
        const real = await http.post('/auth/login').send({ email, password: `wrong ${i}` });
        const unknown = await http.post('/auth/login').send({ email: ghost, password: `wrong ${i}` });
        expect(real.status).toBe(401);
        expect(real.body).toEqual(INVALID_CREDENTIALS);
        expect(unknown.status).toBe(401);
        expect(unknown.body).toEqual(real.body);
      }
      // Six failures start a backoff: for the account that exists and for the one that does not.
      const real = await http.post('/auth/login').send({ email, password: 'wrong again' });
      const unknown = await http.post('/auth/login').send({ email: ghost, password: 'wrong again' });
      expect(real.status).toBe(429);
      expect(unknown.status).toBe(429);
      expect(unknown.body).toEqual(real.body);
      expect(unknown.headers['retry-after']).toBe(real.headers['retry-after']);
    });

    it('V3.3.1 every cookie the session routes set is Secure and named with the __Host- or __Secure- prefix (login, refresh and logout)', async () => {
      const user = await registerAndLogin(http);
      const loggedIn = await http.post('/auth/login').send({ email: user.email, password: user.password }).expect(200);
      const refreshed = await http
        .post('/auth/refresh')
        .set('Cookie', cookieHeader(jarOf(loggedIn)))
        .set('X-CSRF-Token', jarOf(loggedIn)['__Host-csrf'])
        .send({})
        .expect(200);
      const loggedOut = await http.post('/auth/logout').auth(refreshed.body.accessToken, BEARER).expect(204);
      for (const res of [loggedIn, refreshed, loggedOut]) {
        const cookies = setCookies(res);
        expect(cookies.map((c) => c.name).sort()).toEqual(['__Host-access', '__Host-csrf', '__Secure-refresh']);
        for (const cookie of cookies) {
          expect(cookie.attributes.secure).toBe(true);
          expect(cookie.name).toMatch(/^__(Host|Secure)-/);
        }
      }
    });

    it('V3.3.3 the access and CSRF cookies are __Host- (Path=/, no Domain); the one __Secure- cookie, the refresh token, is host-only and scoped to /auth', async () => {
      const user = await registerAndLogin(http);
      const res = await http.post('/auth/login').send({ email: user.email, password: user.password }).expect(200);
      const byName = Object.fromEntries(setCookies(res).map((c) => [c.name, c]));
      for (const name of ['__Host-access', '__Host-csrf']) {
        expect(byName[name].attributes.path).toBe('/');
        expect(byName[name].attributes.domain).toBeUndefined();
      }
      expect(byName['__Secure-refresh'].attributes.path).toBe('/auth');
      expect(byName['__Secure-refresh'].attributes.domain).toBeUndefined();
    });

    it('V3.3.4 the access and refresh cookies are HttpOnly; only the CSRF cookie is readable by scripts', async () => {
      const user = await registerAndLogin(http);
      const res = await http.post('/auth/login').send({ email: user.email, password: user.password }).expect(200);
      const byName = Object.fromEntries(setCookies(res).map((c) => [c.name, c]));
      expect(byName['__Host-access'].attributes.httponly).toBe(true);
      expect(byName['__Secure-refresh'].attributes.httponly).toBe(true);
      expect(byName['__Host-csrf'].attributes.httponly).toBeUndefined();
      expect(byName['__Host-csrf'].value).not.toBe(res.body.accessToken);
      expect(byName['__Host-csrf'].value).not.toBe(res.body.refreshToken);
    });

    it('V3.3.2 SameSite is set on every cookie for its purpose: Lax on the access cookie, Strict on the refresh and CSRF cookies', async () => {
      const user = await registerAndLogin(http);
      const res = await http.post('/auth/login').send({ email: user.email, password: user.password }).expect(200);
      const sameSite = Object.fromEntries(setCookies(res).map((c) => [c.name, String(c.attributes.samesite).toLowerCase()]));
      expect(sameSite).toEqual({ '__Host-access': 'lax', '__Secure-refresh': 'strict', '__Host-csrf': 'strict' });
    });

    it('V3.5.1 a cookie-authenticated unsafe request without the matching X-CSRF-Token is refused (403) and changes nothing', async () => {
      const user = await registerAndLogin(http);
      const res = await http.post('/auth/login').send({ email: user.email, password: user.password }).expect(200);
      const jar = jarOf(res);
      const attackerCsrf = jarOf(await http.post('/auth/login').send({ email: user.email, password: user.password }))['__Host-csrf'];
      // Forged from another site: the browser adds the cookies, the attacker cannot read __Host-csrf.
      for (const header of [undefined, '', attackerCsrf, `${jar['__Host-csrf']}x`]) {
        const logout = http.post('/auth/logout').set('Cookie', cookieHeader(jar));
        const forged = await (header === undefined ? logout : logout.set('X-CSRF-Token', header));
        expect(forged.status).toBe(403);
        const deleteAll = http.delete('/auth/sessions').set('Cookie', cookieHeader(jar));
        expect((await (header === undefined ? deleteAll : deleteAll.set('X-CSRF-Token', header))).status).toBe(403);
      }
      const refresh = await http.post('/auth/refresh').set('Cookie', cookieHeader(jar)).send({});
      expect(refresh.status).toBe(403);
      // Nothing happened: the session is alive, its refresh token was not rotated, no other session ended.
      await http.get('/ping/secure').set('Cookie', cookieHeader(jar)).expect(200);
      const list = await http.get('/auth/sessions').set('Cookie', cookieHeader(jar)).expect(200);
      expect(list.body).toHaveLength(3);
      // The same requests with the CSRF header go through.
      await http
        .post('/auth/refresh')
        .set('Cookie', cookieHeader(jar))
        .set('X-CSRF-Token', jar['__Host-csrf'])
        .send({})
        .expect(200);
      // A cross-site HTML form or no-preflight fetch cannot log anyone in (login CSRF).
      for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
        const forgedLogin = await http
          .post('/auth/login')
          .set('Content-Type', type)
          .send(type === 'text/plain' ? JSON.stringify({ email: user.email, password: user.password }) : `email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}`);
        expect(forgedLogin.status).not.toBe(200);
        expect(setCookies(forgedLogin)).toEqual([]);
      }
    });

    it('V14.2.1 a token in the URL is never accepted: access and refresh tokens in the query string are ignored', async () => {
      const user = await registerAndLogin(http);
      for (const name of ['access_token', 'accessToken', 'token']) {
        const res = await http.get(`/ping/secure?${name}=${user.accessToken}`);
        expect(res.status).toBe(401);
        expect(res.body).toEqual(INVALID_TOKEN);
      }
      for (const name of ['refreshToken', 'refresh_token']) {
        await http.post(`/auth/refresh?${name}=${user.refreshToken}`).send({}).expect(401);
      }
      // Neither query attempt used the tokens up: they still work where they belong.
      await http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
      await http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    });

    it('V10.4.5 (RFC 9700 §4.14.2) refresh tokens rotate on every use; a rotated-away token presented again revokes the whole session', async () => {
      const user = await registerAndLogin(http);
      const otherSession = await login(http, user.email, user.password);
      // The attacker replays a stolen refresh token first and gets a fresh pair.
      const stolen = await http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      expect(stolen.body.sessionId).toBe(user.sessionId);
      expect(stolen.body.refreshToken).not.toBe(user.refreshToken);
      expect(stolen.body.accessToken).not.toBe(user.accessToken);
      await http.get('/ping/secure').auth(user.accessToken, BEARER).expect(401); // the old access token went with it
      await http.get('/ping/secure').auth(stolen.body.accessToken, BEARER).expect(200);
      await expectCached(running, stolen.body.accessToken);
      await sleep(1_100); // past SESSION_REFRESH_GRACE
      // The legitimate client presents its (now rotated-away) token: reuse.
      const reuse = await http.post('/auth/refresh').send({ refreshToken: user.refreshToken });
      expect(reuse.status).toBe(401);
      expect(reuse.body).toEqual(INVALID_TOKEN);
      // The active pair the attacker holds is revoked with the session.
      await expectRefused(http, { accessToken: stolen.body.accessToken, refreshToken: stolen.body.refreshToken });
      const [row] = await sql<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [user.sessionId]);
      expect(row.revoked_reason).toBe('reuse_detected');
      await http.get('/ping/secure').auth(otherSession.accessToken, BEARER).expect(200);
    });
  });

  describe('timeouts (seconds-long lifetimes)', () => {
    const apps: RunningApp[] = [];
    const start = async (env: Record<string, string>) => {
      const app = await startApp(env);
      apps.push(app);
      return app;
    };
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((a) => a.close()));
    });

    it('V7.3.1 a session unused for SESSION_IDLE_TTL is over (access and refresh tokens); activity keeps it alive', async () => {
      // idle 2 s: activity is written at most once a second (max(1, min(60, 2 / 20)))
      const { http } = await start({ SESSION_IDLE_TTL: '2' });
      const user = await registerAndLogin(http);
      await http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
      for (let i = 0; i < 2; i++) {
        await sleep(1_200);
        await http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
      }
      // 2.4 s after login, more than the idle timeout, the active session lives. Now nothing for 2.6 s:
      await sleep(2_600);
      await expectRefused(http, user);
    });

    it('V7.3.2 no session outlives SESSION_ABSOLUTE_TTL, however often it is used and refreshed', async () => {
      const { http } = await start({ SESSION_ABSOLUTE_TTL: '3' });
      const user = await registerAndLogin(http);
      const started = Date.now();
      let current = { accessToken: user.accessToken, refreshToken: user.refreshToken };
      for (let i = 1; i <= 2; i++) {
        await sleep(1_000);
        const res = await http.post('/auth/refresh').send({ refreshToken: current.refreshToken }).expect(200);
        expect(res.body.sessionId).toBe(user.sessionId);
        expect(res.body.refreshExpiresIn).toBeLessThanOrEqual(3 - i);
        expect(res.body.expiresIn).toBeLessThanOrEqual(3 - i);
        current = { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
        const me = await http.get('/auth/me').auth(current.accessToken, BEARER).expect(200);
        expect(new Date(me.body.session.expiresAt).getTime()).toBeLessThanOrEqual(new Date(me.body.session.createdAt).getTime() + 3_000);
      }
      await sleep(Math.max(0, started + 3_300 - Date.now()));
      await expectRefused(http, current);
    });

    it('V7.4.1 an expired access token is refused even while its session is live (SESSION_ACCESS_TTL); refresh then issues a working one', async () => {
      const { http } = await start({ SESSION_ACCESS_TTL: '2' });
      const user = await registerAndLogin(http);
      const res = await http.post('/auth/login').send({ email: user.email, password: user.password }).expect(200);
      expect(res.body.expiresIn).toBe(2);
      await http.get('/ping/secure').auth(res.body.accessToken, BEARER).expect(200);
      await sleep(2_200);
      const expired = await http.get('/ping/secure').auth(res.body.accessToken, BEARER);
      expect(expired.status).toBe(401);
      expect(expired.body).toEqual(INVALID_TOKEN);
      const refreshed = await http.post('/auth/refresh').send({ refreshToken: res.body.refreshToken }).expect(200);
      await http.get('/ping/secure').auth(refreshed.body.accessToken, BEARER).expect(200);
    });
  });

  describe('brute force and session binding', () => {
    let running: RunningApp | undefined;
    afterEach(async () => {
      await running?.close();
      running = undefined;
    });

    it('V6.3.1 login attempts per client IP are capped: 429 with Retry-After, even for the right password, and X-Forwarded-For cannot reset the count', async () => {
      running = await startApp({ THROTTLE_LOGIN_LIMIT: '3', THROTTLE_LOGIN_TTL: '60' });
      const { http } = running;
      const email = uniqueEmail('target');
      await http.post('/auth/register').send({ email, password: PASSWORD }).expect(201);
      for (let i = 0; i < 3; i++) {
        await http.post('/auth/login').set('X-Forwarded-For', `203.0.113.${i}`).send({ email: uniqueEmail('stuffed'), password: `guess ${i}` }).expect(401);
      }
      const limited = await http.post('/auth/login').set('X-Forwarded-For', '198.51.100.1').send({ email, password: PASSWORD });
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ statusCode: 429 });
      expect(limited.body.accessToken).toBeUndefined();
      expect(setCookies(limited)).toEqual([]);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      await http.get('/ping').expect(200); // other routes keep their own limit
    });

    it('V8.2.4 a session used from another browser family is revoked at once, for every client (SESSION_BINDING=ua)', async () => {
      running = await startApp({ SESSION_BINDING: 'ua' });
      const { http } = running;
      const user = await registerAndLogin(http); // logs in as Chrome on macOS
      const newerChrome = USER_AGENT_CHROME_MAC.replace('Chrome/120.0', 'Chrome/131.0');
      await http.get('/ping/secure').set('User-Agent', newerChrome).auth(user.accessToken, BEARER).expect(200);
      await expectCached(running, user.accessToken);
      const stolen = await http.get('/ping/secure').set('User-Agent', FIREFOX_LINUX).auth(user.accessToken, BEARER);
      expect(stolen.status).toBe(401);
      expect(stolen.body).toEqual(INVALID_TOKEN);
      await http.get('/ping/secure').set('User-Agent', USER_AGENT_CHROME_MAC).auth(user.accessToken, BEARER).expect(401);
      await http.post('/auth/refresh').set('User-Agent', USER_AGENT_CHROME_MAC).send({ refreshToken: user.refreshToken }).expect(401);
      const [row] = await sql<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [user.sessionId]);
      expect(row.revoked_reason).toBe('hijack_suspected');
    });
  });
});
