import type { Test } from 'supertest';
import { CapturedLogs, login, resetDatabase, RunningApp, startApp, uniqueEmail, USER_AGENT_CHROME_MAC } from '../support/app-harness';

const BEARER = { type: 'bearer' } as const;
const PASSWORD = 'correct horse battery';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const ADMIN_EMAIL = uniqueEmail('new-device-admin');
const ADMIN_PASSWORD = 'admin password 1';

/**
 * New-device and new-network logins (issue 14): a login from a browser family or /24 the user's
 * recent sessions do not have gives a `new_device` audit entry, a count in the statistics and a
 * log line of the host app; the same client again gives none.
 */
describe('new-device and new-network logins', () => {
  let running: RunningApp;
  let admin: { accessToken: string };
  const logs = new CapturedLogs();
  // Binding on: the hijack count is checked here too; the admin calls with its login's browser.
  const asAdmin = (req: Test) => req.auth(admin.accessToken, BEARER).set('User-Agent', USER_AGENT_CHROME_MAC);

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({ ADMIN_EMAIL, ADMIN_PASSWORD, TRUST_PROXY: 'true', SESSION_BINDING: 'ua', LOG_LEVEL: 'info' }, logs);
    admin = await login(running.http, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => running?.close());

  const stats = async () => (await asAdmin(running.http.get('/admin/sessions/stats')).expect(200)).body;
  const newDeviceEntries = async (userId: string) =>
    (await asAdmin(running.http.get(`/admin/audit?userId=${userId}&type=new_device`)).expect(200)).body.items;

  async function loginFrom(email: string, userAgent: string, ip: string, password = PASSWORD) {
    const res = await running.http.post('/auth/login').set('User-Agent', userAgent).set('X-Forwarded-For', ip).send({ email, password }).expect(200);
    return { userId: res.body.user.id as string, sessionId: res.body.sessionId as string, accessToken: res.body.accessToken as string, refreshToken: res.body.refreshToken as string };
  }

  async function register(): Promise<string> {
    const email = uniqueEmail('new-device');
    await running.http.post('/auth/register').send({ email, password: PASSWORD }).expect(201);
    return email;
  }

  it('a first login, and the same browser family on the same /24 again, are no new device', async () => {
    const before = await stats();
    const email = await register();
    const first = await loginFrom(email, USER_AGENT_CHROME_MAC, '198.51.100.10');
    await loginFrom(email, USER_AGENT_CHROME_MAC.replace('Chrome/120.0', 'Chrome/121.0'), '198.51.100.99');
    expect(await newDeviceEntries(first.userId)).toEqual([]);
    expect((await stats()).newDeviceLoginsLast24h).toBe(before.newDeviceLoginsLast24h);
  });

  it('a new browser family gives a new_device entry, a count and the host\'s log line; the same client again does not', async () => {
    const email = await register();
    const first = await loginFrom(email, USER_AGENT_CHROME_MAC, '198.51.100.10');
    const before = await stats();

    const firefox = await loginFrom(email, FIREFOX_LINUX, '198.51.100.20');
    const [entry, ...others] = await newDeviceEntries(first.userId);
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      type: 'new_device',
      userId: first.userId,
      sessionId: firefox.sessionId,
      ipAddress: '198.51.100.20',
      userAgent: FIREFOX_LINUX,
      detail: 'new browser: Firefox on Linux, 198.51.100.0/24',
    });
    expect((await stats()).newDeviceLoginsLast24h - before.newDeviceLoginsLast24h).toBe(1);

    const line = logs.records().find((l) => l.msg === 'new sign-in' && l.sessionId === firefox.sessionId);
    expect(line).toMatchObject({
      context: 'SignInAlerts',
      event: 'new_device',
      userId: first.userId,
      novel: ['browser'],
      browser: 'Firefox',
      os: 'Linux',
      network: '198.51.100.0/24',
      summary: 'A new sign-in from Firefox on Linux (network 198.51.100.0/24)',
    });
    for (const token of [firefox.accessToken, firefox.refreshToken]) expect(JSON.stringify(line)).not.toContain(token);

    await loginFrom(email, FIREFOX_LINUX, '198.51.100.21');
    expect(await newDeviceEntries(first.userId)).toHaveLength(1);
    expect((await stats()).newDeviceLoginsLast24h - before.newDeviceLoginsLast24h).toBe(1);
  });

  it('a new /24 gives a new_device entry; the same /24 again does not', async () => {
    const email = await register();
    const first = await loginFrom(email, USER_AGENT_CHROME_MAC, '198.51.100.10');
    const before = await stats();
    const travelling = await loginFrom(email, USER_AGENT_CHROME_MAC, '203.0.113.5');
    await loginFrom(email, USER_AGENT_CHROME_MAC, '203.0.113.77');
    const entries = await newDeviceEntries(first.userId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ sessionId: travelling.sessionId, detail: 'new network: Chrome on macOS, 203.0.113.0/24' });
    expect((await stats()).newDeviceLoginsLast24h - before.newDeviceLoginsLast24h).toBe(1);
  });

  it('the statistics count suspected hijacks and throttled logins of the last 24 hours', async () => {
    const before = await stats();
    const email = await register();
    const session = await loginFrom(email, USER_AGENT_CHROME_MAC, '198.51.100.30');
    // Another browser family presents the session's token: revoked as a suspected hijack.
    await running.http.get('/ping/secure').auth(session.accessToken, BEARER).set('User-Agent', FIREFOX_LINUX).expect(401);
    // Wrong passwords from one network until the failure backoff refuses (429, `throttled`).
    let status = 401;
    for (let i = 0; i < 10 && status !== 429; i++) {
      status = (await running.http.post('/auth/login').set('X-Forwarded-For', '192.0.2.9').send({ email, password: 'wrong password!' })).status;
    }
    expect(status).toBe(429);
    const after = await stats();
    expect(after.hijackSuspectedLast24h - before.hijackSuspectedLast24h).toBe(1);
    expect(after.throttledLast24h - before.throttledLast24h).toBe(1);
  });

  it('GET /admin/audit takes type=new_device', async () => {
    await asAdmin(running.http.get('/admin/audit?type=new_device')).expect(200);
  });
});
