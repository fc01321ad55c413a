import type { Response } from 'supertest';
import { resetDatabase, RunningApp, startApp, uniqueEmail, USER_AGENT_CHROME_MAC } from '../support/app-harness';

const BEARER = { type: 'bearer' } as const;
const PASSWORD = 'the right password';

interface Victim {
  email: string;
  userId: string;
  accessToken: string;
}

/**
 * Issue 11, findings 1 and 6: `POST /auth/password` checks the current password, so with a
 * stolen fresh access token it was a password oracle without the login limits (40 guesses in
 * 1.1 s all checked; 250 concurrent, 237 checked), and failed logins were not tied to the account.
 * Now every password check counts as a login attempt: the login limit per address (5 a minute,
 * one count with login), the per-(account, network) backoff, a `login_failed` entry with the
 * account's id, and the admin sees them per account.
 */
describe('password guessing through POST /auth/password (issue 11: 1 and 6)', () => {
  let running: RunningApp;
  let admin: Victim;
  const adminEmail = uniqueEmail('guess-admin');

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({
      // Realistic limits (the harness raises them for other suites); X-Forwarded-For picks the client.
      THROTTLE_LOGIN_LIMIT: '5',
      THROTTLE_LOGIN_TTL: '60',
      THROTTLE_LIMIT: '100',
      THROTTLE_TTL: '60',
      TRUST_PROXY: 'true',
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: 'admin password 1',
    });
    admin = await loginFrom(adminEmail, 'admin password 1', '198.18.0.1');
  });
  afterAll(() => running.close());

  async function loginFrom(email: string, password: string, ip: string): Promise<Victim> {
    const res = await running.http
      .post('/auth/login')
      .set('X-Forwarded-For', ip)
      .set('User-Agent', USER_AGENT_CHROME_MAC)
      .send({ email, password })
      .expect(200);
    return { email, userId: res.body.user.id, accessToken: res.body.accessToken };
  }

  /** A user with a fresh session opened from `ip` (their own network). */
  async function victimAt(ip: string): Promise<Victim> {
    const email = uniqueEmail('victim');
    await running.http.post('/auth/register').send({ email, password: PASSWORD }).expect(201);
    return loginFrom(email, PASSWORD, ip);
  }

  const guess = (victim: Victim, currentPassword: string, ip: string, userAgent = 'Attacker/1') =>
    running.http
      .post('/auth/password')
      .auth(victim.accessToken, BEARER)
      .set('X-Forwarded-For', ip)
      .set('User-Agent', userAgent)
      .send({ currentPassword, newPassword: 'the attacker chose this' });

  const failedLogin = (email: string, ip: string) =>
    running.http.post('/auth/login').set('X-Forwarded-For', ip).send({ email, password: 'a wrong guess' });

  const auditOf = async (userId: string, type: string) =>
    (await running.http.get(`/admin/audit?userId=${userId}&type=${type}&limit=100`).auth(admin.accessToken, BEARER).expect(200)).body as {
      total: number;
      items: Array<Record<string, unknown>>;
    };

  const statuses = (responses: Response[]) => responses.map((r) => r.status);
  const count = (responses: Response[], status: number) => responses.filter((r) => r.status === status).length;
  const expectRetryAfter = (res: Response) => {
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  };

  it('40 sequential guesses from one address: 5 are checked, the rest and then the right password get 429 with Retry-After', async () => {
    const victim = await victimAt('198.51.100.10');
    const other = await loginFrom(victim.email, PASSWORD, '198.51.100.10');
    const attacker = '203.0.113.7';

    const answers: Response[] = [];
    for (let i = 0; i < 40; i++) answers.push(await guess(victim, `guess number ${i}`, attacker));
    expect(statuses(answers).slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(count(answers, 429)).toBe(35);
    answers.filter((r) => r.status === 429).forEach(expectRetryAfter);

    const right = await guess(victim, PASSWORD, attacker);
    expectRetryAfter(right);
    // One count with login: a login from that address is refused the same way, in the same shape.
    const login = await failedLogin(victim.email, attacker);
    expectRetryAfter(login);
    expect(right.body).toEqual(login.body);

    // Nothing changed: the victim's other session lives, the password is the old one.
    await running.http.get('/ping/secure').auth(other.accessToken, BEARER).expect(200);
    await loginFrom(victim.email, PASSWORD, '198.51.100.11');
    expect((await auditOf(victim.userId, 'login_failed')).total).toBe(5);
  });

  it('250 concurrent guesses from one address: at most the limit (5) reach the password check', async () => {
    const victim = await victimAt('198.51.100.20');
    const attacker = '203.0.113.20';

    const answers = await Promise.all(Array.from({ length: 250 }, (_, i) => guess(victim, `concurrent guess ${i}`, attacker)));
    const checked = count(answers, 401);
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(checked).toBeLessThanOrEqual(5);
    expect(count(answers, 429)).toBe(250 - checked);
    answers.filter((r) => r.status === 429).forEach(expectRetryAfter);
    expect((await auditOf(victim.userId, 'login_failed')).total).toBe(checked);

    expectRetryAfter(await guess(victim, PASSWORD, attacker));
    await loginFrom(victim.email, PASSWORD, '198.51.100.21');
  });

  it('250 concurrent guesses spread over two instances sharing Redis: still at most 5 checked', async () => {
    const second = await startApp({ ...running.env });
    try {
      const victim = await victimAt('198.51.100.25');
      const attacker = '203.0.113.25';
      const answers = await Promise.all(
        Array.from({ length: 250 }, (_, i) =>
          (i % 2 ? running : second).http
            .post('/auth/password')
            .auth(victim.accessToken, BEARER)
            .set('X-Forwarded-For', attacker)
            .send({ currentPassword: `concurrent guess ${i}`, newPassword: 'the attacker chose this' }),
        ),
      );
      expect(count(answers, 401)).toBeLessThanOrEqual(5);
      expect(count(answers, 401) + count(answers, 429)).toBe(250);
    } finally {
      await second.close();
    }
  });

  it('login and the password check share one count per address', async () => {
    const victim = await victimAt('198.51.100.30');
    const attacker = '203.0.113.30';
    for (let i = 0; i < 3; i++) await failedLogin(victim.email, attacker).expect(401);
    for (let i = 0; i < 2; i++) await guess(victim, `guess ${i}`, attacker).expect(401);
    expectRetryAfter(await guess(victim, 'one more', attacker));
  });

  it('the per-(account, network) backoff: guesses spread over addresses of one network are slowed, even the right password; other networks are not', async () => {
    const victim = await victimAt('198.51.100.40');
    // One request per address: the per-address limit never applies.
    for (let i = 1; i <= 6; i++) await guess(victim, `guess ${i}`, `192.0.2.${i}`).expect(401); // the 6th failure blocks 1 s

    const right = await guess(victim, PASSWORD, '192.0.2.7');
    expectRetryAfter(right);
    expect(right.body).toEqual({ statusCode: 429, message: 'Too many failed login attempts, try again later', error: 'Too Many Requests' });
    // The same backoff as login's: a login to that account from that network waits too.
    const login = await running.http.post('/auth/login').set('X-Forwarded-For', '192.0.2.8').send({ email: victim.email, password: PASSWORD });
    expectRetryAfter(login);
    expect(login.body).toEqual(right.body);
    const throttled = await auditOf(victim.userId, 'throttled');
    expect(throttled.items[throttled.items.length - 1]).toMatchObject({
      userId: victim.userId,
      ipAddress: '192.0.2.7',
      detail: 'password change: too many failures for this account from this network',
    });

    // The real user, elsewhere, is not locked out.
    await loginFrom(victim.email, PASSWORD, '198.51.100.41');
    await guess(victim, PASSWORD, '198.51.100.42', USER_AGENT_CHROME_MAC).expect(204);
  });

  it('failed logins count against the password check of that account, and the other way round', async () => {
    const victim = await victimAt('198.51.100.45');
    for (let i = 1; i <= 3; i++) await failedLogin(victim.email, `192.0.2.${100 + i}`).expect(401);
    for (let i = 4; i <= 6; i++) await guess(victim, `guess ${i}`, `192.0.2.${100 + i}`).expect(401);
    expectRetryAfter(await guess(victim, PASSWORD, '192.0.2.110'));
    expectRetryAfter(await running.http.post('/auth/login').set('X-Forwarded-For', '192.0.2.111').send({ email: victim.email, password: PASSWORD }));
  });

  it("a wrong password is a login_failed entry with the account's id, in the account's trail; unknown emails answer the same", async () => {
    const victim = await victimAt('198.51.100.50');
    const wrong = await guess(victim, 'not it', '198.51.100.51');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ statusCode: 401, message: 'Invalid credentials', error: 'Unauthorized' });
    const known = await failedLogin(victim.email, '198.51.100.52').expect(401);
    const unknown = await failedLogin(uniqueEmail('nobody'), '198.51.100.53').expect(401);
    expect(unknown.body).toEqual(known.body);

    const trail = await auditOf(victim.userId, 'login_failed');
    expect(trail.total).toBe(2);
    expect(trail.items).toEqual([
      expect.objectContaining({ type: 'login_failed', userId: victim.userId, sessionId: null, ipAddress: '198.51.100.52', detail: 'invalid credentials' }),
      expect.objectContaining({
        type: 'login_failed',
        userId: victim.userId,
        sessionId: null,
        ipAddress: '198.51.100.51',
        userAgent: 'Attacker/1',
        detail: 'invalid credentials (password change)',
      }),
    ]);
  });

  it('the stats list the accounts with the most failed logins, most first, without unknown emails', async () => {
    const victim = await victimAt('198.51.100.60');
    // 9 failures, more than any other account of this suite: 5 logins and 4 guesses, each from its own network.
    for (let i = 1; i <= 5; i++) await failedLogin(victim.email, `100.64.${i}.1`).expect(401);
    for (let i = 6; i <= 9; i++) await guess(victim, `guess ${i}`, `100.64.${i}.1`).expect(401);
    await failedLogin(uniqueEmail('nobody'), '100.64.10.1').expect(401);

    const stats = (await running.http.get('/admin/sessions/stats').auth(admin.accessToken, BEARER).expect(200)).body;
    const byAccount = stats.loginFailuresByAccountLast24h as Array<{ userId: string; failures: number }>;
    expect(byAccount[0]).toEqual({ userId: victim.userId, failures: 9 });
    expect(byAccount.length).toBeLessThanOrEqual(10);
    for (const entry of byAccount) expect(typeof entry.userId).toBe('string');
    expect(byAccount.map((e) => e.failures)).toEqual([...byAccount.map((e) => e.failures)].sort((a, b) => b - a));
    // The total still counts every failure, unknown emails included.
    expect(stats.loginFailuresLast24h).toBeGreaterThan(byAccount.reduce((sum, e) => sum + e.failures, 0));
  });
});
