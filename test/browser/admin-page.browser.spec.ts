import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Browser } from 'playwright-core';
import { resetDatabase, RunningApp, startApp, uniqueEmail, USER_AGENT_CHROME_MAC } from '../support/app-harness';
import { listenOnFreePort } from '../support/listen';
import { filterSessionsByUser, signInThroughPage, waitForDashboard } from './support/admin-page';
import { chromiumMissing, launchChromium } from './support/chromium';
import { openWatchedPage, WatchedPage } from './support/watched-page';
import { connectIo, whoami } from '../support/socket-clients';

/** Set to a path (e.g. `docs/admin-page.png`) to save a screenshot of the page with data. */
const SCREENSHOT_PATH = process.env.ADMIN_SCREENSHOT;

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'admin password for the page';
const PASSWORD = 'correct horse battery';

const USER_AGENTS = {
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  windows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  android: 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0',
  mac: USER_AGENT_CHROME_MAC,
};

// Without Chromium: skipped, and the project's global setup says why (CI requires it instead).
describe.skipIf(chromiumMissing() !== undefined)('the admin page in Chromium', () => {
  let running: RunningApp;
  let baseUrl: string;
  let browser: Browser;
  let watched: WatchedPage | undefined;
  /** Whether the lead's stats and audit routes exist yet; the page says "not available" when not. */
  let operationsRoutes: { stats: boolean; audit: boolean };

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({ ADMIN_EMAIL, ADMIN_PASSWORD });
    baseUrl = await listenOnFreePort(running.app);
    browser = await launchChromium();
    const admin = await apiLogin(ADMIN_EMAIL, ADMIN_PASSWORD, 'probe', USER_AGENT_CHROME_MAC);
    const status = async (path: string) =>
      (await running.http.get(path).auth(admin.accessToken, { type: 'bearer' })).status;
    operationsRoutes = {
      stats: (await status('/admin/sessions/stats')) !== 404,
      audit: (await status('/admin/audit')) !== 404,
    };
  });

  afterEach(async () => {
    await watched?.close();
    watched = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  async function open(): Promise<WatchedPage> {
    watched = await openWatchedPage(browser, baseUrl);
    watched.context.setDefaultTimeout(10_000);
    return watched;
  }

  async function apiLogin(email: string, password: string, deviceName: string, userAgent: string) {
    const res = await running.http
      .post('/auth/login')
      .set('User-Agent', userAgent)
      .send({ email, password, deviceName })
      .expect(200);
    return { userId: res.body.user.id as string, accessToken: res.body.accessToken as string };
  }

  async function registerAndLoginWithDevice(deviceName: string, userAgent: string) {
    const email = uniqueEmail('page');
    await running.http.post('/auth/register').send({ email, password: PASSWORD }).expect(201);
    return { email, ...(await apiLogin(email, PASSWORD, deviceName, userAgent)) };
  }

  /** The 404s the page meets (and shows as "not available") while the operations routes are missing. */
  const missingRouteStatuses = () => (operationsRoutes.stats && operationsRoutes.audit ? [] : [404]);

  it('loads under the CSP with no console errors and shows the sign-in form', async () => {
    const { page, problems } = await open();
    const res = await page.goto('/admin');
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('#sign-in-form').waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    expect(problems()).toEqual([]);

    // The watcher does see a CSP violation: an inline script is refused and reported.
    // (Strings, not functions: this file is compiled without the DOM's types.)
    await page.evaluate(`{
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
    }`);
    await expect.poll(() => problems().join('\n')).toContain('CSP violation');
    expect(await page.evaluate('window.inlineRan')).toBeUndefined();
  });

  it('tells a signed-in user without the admin role that they are not an admin', async () => {
    const { page, problems } = await open();
    const email = uniqueEmail('plain');
    await running.http.post('/auth/register').send({ email, password: PASSWORD }).expect(201);
    await page.goto('/admin');
    await signInThroughPage(page, email, PASSWORD);
    await page.locator('#not-admin').waitFor();
    expect(await page.locator('#not-admin').textContent()).toContain('not an admin');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    // The admin API's 403 is how the page learns it; nothing else may go wrong.
    expect(problems([403])).toEqual([]);
  });

  it('refuses a wrong password with a message', async () => {
    const { page, problems } = await open();
    await page.goto('/admin');
    await signInThroughPage(page, ADMIN_EMAIL, 'not the password');
    expect(await page.locator('#sign-in-error').textContent()).toBe('Wrong email or password.');
    expect(problems([401])).toEqual([]);
  });

  it('lets an admin find a user\'s session, revoke it, and see the revocation in the audit trail', async () => {
    const { page, problems } = await open();
    await page.goto('/admin');
    await signInThroughPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await waitForDashboard(page);
    expect(await page.locator('#account-email').textContent()).toBe(ADMIN_EMAIL);

    const deviceName = `Test phone ${Date.now().toString(36)}`;
    const user = await registerAndLoginWithDevice(deviceName, USER_AGENTS.iphone);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);

    await filterSessionsByUser(page, user.userId);
    const row = page.locator('#sessions-table tbody tr', { hasText: deviceName });
    await row.waitFor();
    expect(await page.locator('#sessions-table tbody tr').count()).toBe(1);
    expect(await row.getAttribute('data-user-id')).toBe(user.userId);
    expect(await row.textContent()).toContain('iPhone');

    await Promise.all([
      page.waitForResponse((res) => res.request().method() === 'DELETE' && res.url().includes('/admin/sessions/')),
      row.getByRole('button', { name: `Revoke session ${deviceName}` }).click(),
    ]);
    await row.waitFor({ state: 'detached' });
    expect(await page.locator('#sessions-table tbody').textContent()).toContain('No live sessions.');
    expect(await page.locator('#flash').textContent()).toBe('Session revoked.');

    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(401);

    if (operationsRoutes.audit) {
      await page.fill('#audit-user', user.userId);
      await page.selectOption('#audit-type', 'revoked');
      await page.locator('#audit-filter').getByRole('button', { name: 'Apply' }).click();
      // Rows of other users' revocations may be on screen until the filtered answer is drawn.
      await page.locator(`#audit-table tbody tr[data-type="revoked"][data-user-id="${user.userId}"]`).first().waitFor();
      const others = page.locator(`#audit-table tbody tr[data-type]:not([data-type="revoked"][data-user-id="${user.userId}"])`);
      await expect.poll(() => others.count()).toBe(0);
    } else {
      expect(await page.locator('#audit-status').textContent()).toContain('not available');
    }
    expect(problems(missingRouteStatuses())).toEqual([]);
  });

  it('revokes every session of a user after a confirmation', async () => {
    const { page, problems } = await open();
    const user = await registerAndLoginWithDevice('Laptop one', USER_AGENTS.windows);
    await apiLogin(user.email, PASSWORD, 'Laptop two', USER_AGENTS.mac);
    await page.goto('/admin');
    await signInThroughPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await waitForDashboard(page);
    await filterSessionsByUser(page, user.userId);
    expect(await page.locator('#sessions-table tbody tr').count()).toBe(2);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#revoke-user');
    await page.locator('#flash', { hasText: 'Revoked 2 sessions' }).waitFor();
    await page.locator('#sessions-table tbody', { hasText: 'No live sessions.' }).waitFor();
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(401);
    expect(problems(missingRouteStatuses())).toEqual([]);
  });

  it('refreshes by cookie when the access token is gone, and asks to sign in when the refresh fails too', async () => {
    const { page, context, problems } = await open();
    await page.goto('/admin');
    await signInThroughPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await waitForDashboard(page);

    await context.clearCookies({ name: '__Host-access' });
    const [refresh, retried] = await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/auth/refresh')),
      page.waitForResponse((res) => res.url().includes('/admin/sessions?') && res.status() === 200),
      page.click('#reload'),
    ]);
    expect(refresh.status()).toBe(200);
    expect(retried.ok()).toBe(true);
    expect(await page.locator('#dashboard').isVisible()).toBe(true);
    expect((await context.cookies()).map((c) => c.name)).toContain('__Host-access');

    await context.clearCookies({ name: /^__(Host-access|Secure-refresh)$/ });
    await page.click('#reload');
    await page.locator('#sign-in').waitFor();
    expect(await page.locator('#sign-in-error').textContent()).toContain('Sign in again');
    expect(problems([401, ...missingRouteStatuses()])).toEqual([]);
  });

  it('resumes the session on reload and signs out', async () => {
    const { page, context, problems } = await open();
    await page.goto('/admin');
    await signInThroughPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await waitForDashboard(page);

    await page.reload();
    await waitForDashboard(page);
    expect(await page.locator('#sessions-table tbody tr.own').count()).toBe(1);

    await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/auth/logout') && res.status() === 204),
      page.click('#sign-out'),
    ]);
    await page.locator('#sign-in').waitFor();
    expect((await context.cookies()).map((c) => c.name)).not.toContain('__Host-access');
    expect(problems(missingRouteStatuses())).toEqual([]);
  });

  it('shows sessions, statistics and audit together', async () => {
    // Only this test's admin session in the picture: end those the tests above left behind.
    const admin = await apiLogin(ADMIN_EMAIL, ADMIN_PASSWORD, 'cleanup', USER_AGENT_CHROME_MAC);
    await running.http
      .delete(`/admin/users/${admin.userId}/sessions`)
      .auth(admin.accessToken, { type: 'bearer' })
      .expect(200);
    const devices: Array<[string, string]> = [
      ['Work laptop', USER_AGENTS.windows],
      ["Sam's iPhone", USER_AGENTS.iphone],
      ['Pixel 8', USER_AGENTS.android],
      ['MacBook', USER_AGENTS.mac],
    ];
    for (const [deviceName, userAgent] of devices) await registerAndLoginWithDevice(deviceName, userAgent);
    // A failed login, for the audit trail and the statistics.
    await running.http.post('/auth/login').send({ email: ADMIN_EMAIL, password: 'wrong password' }).expect(401);

    const { page, problems } = await open();
    await page.goto('/admin');
    await signInThroughPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await waitForDashboard(page);
    expect(await page.locator('#sessions-table tbody tr').count()).toBeGreaterThanOrEqual(devices.length + 1);
    if (operationsRoutes.stats) expect(await page.locator('#stats-list .stat').count()).toBe(13);
    if (SCREENSHOT_PATH) {
      mkdirSync(dirname(SCREENSHOT_PATH), { recursive: true });
      await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
    }
    expect(problems(missingRouteStatuses())).toEqual([]);
  });

  it("shows the new-device logins and a user's whole trail, opened from their session", async () => {
    const deviceName = `Firefox laptop ${Date.now().toString(36)}`;
    const user = await registerAndLoginWithDevice('Old Mac', USER_AGENTS.mac);
    await apiLogin(user.email, PASSWORD, deviceName, USER_AGENTS.android); // a browser family new to the user

    const { page, problems } = await open();
    await page.goto('/admin');
    await signInThroughPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await waitForDashboard(page);
    const newDevices = page.locator('#stats-list [data-stat="newDeviceLoginsLast24h"] dd');
    expect(Number(await newDevices.textContent())).toBeGreaterThanOrEqual(1);

    await page.selectOption('#audit-type', 'login_failed'); // the trail shows every type whatever was picked
    await filterSessionsByUser(page, user.userId);
    const row = page.locator('#sessions-table tbody tr', { hasText: deviceName });
    await row.getByRole('button', { name: `Show the trail of user ${user.userId}` }).click();
    const entry = page.locator(`#audit-table tbody tr[data-type="new_device"][data-user-id="${user.userId}"]`);
    await entry.waitFor();
    expect(await entry.textContent()).toContain('new browser: Mobile Firefox on Android');
    await page.locator(`#audit-table tbody tr[data-type="login"][data-user-id="${user.userId}"]`).first().waitFor();
    const others = page.locator(`#audit-table tbody tr[data-type]:not([data-user-id="${user.userId}"])`);
    await expect.poll(() => others.count()).toBe(0);
    expect(await page.locator('#audit-type').inputValue()).toBe('');
    expect(await page.locator('#audit-user').inputValue()).toBe(user.userId);
    expect(problems(missingRouteStatuses())).toEqual([]);
  });

  it('shows who is online: a session with a socket open has an "online" badge', async () => {
    const deviceName = `Online laptop ${Date.now().toString(36)}`;
    const user = await registerAndLoginWithDevice(deviceName, USER_AGENTS.windows);
    const socket = await connectIo(baseUrl, { auth: { token: user.accessToken } });
    await whoami(socket);
    try {
      const { page, problems } = await open();
      await page.goto('/admin');
      await signInThroughPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await waitForDashboard(page);
      await filterSessionsByUser(page, user.userId);
      const row = page.locator('#sessions-table tbody tr', { hasText: deviceName });
      await row.waitFor();
      expect(await row.locator('.badge.online').textContent()).toBe('online');
      expect(problems(missingRouteStatuses())).toEqual([]);
    } finally {
      socket.close();
    }
  });
});
