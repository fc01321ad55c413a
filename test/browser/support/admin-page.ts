import type { Page } from 'playwright-core';

/** Signs in through the page's form and waits until the answer has been shown. */
export async function signInThroughPage(page: Page, email: string, password: string): Promise<void> {
  await page.locator('#sign-in-form').waitFor();
  await page.fill('#sign-in-email', email);
  await page.fill('#sign-in-password', password);
  await page.click('#sign-in-submit');
  await page.locator('#dashboard:visible, #not-admin:visible, #sign-in-error:visible').first().waitFor();
}

/** Waits until every section of the dashboard has finished loading (its tables or its notices). */
export async function waitForDashboard(page: Page): Promise<void> {
  await page.locator('#dashboard').waitFor();
  await page.locator('#sessions-table tbody tr').first().waitFor();
  await page.locator('#stats-list .stat, #stats-status:visible').first().waitFor();
  await page.locator('#audit-table tbody tr, #audit-status:visible').first().waitFor();
}

/** Shows only the sessions of one user in the sessions table. */
export async function filterSessionsByUser(page: Page, userId: string): Promise<void> {
  await page.fill('#sessions-user', userId);
  await Promise.all([
    page.waitForResponse((res) => res.url().includes(`/admin/sessions?userId=${encodeURIComponent(userId)}`)),
    page.locator('#sessions-filter').getByRole('button', { name: 'Apply' }).click(),
  ]);
  // The answer is in; the table is drawn a moment later. Wait until every row is that user's.
  const others = page.locator(`#sessions-table tbody tr[data-session-id]:not([data-user-id="${userId}"])`);
  for (let i = 0; i < 100 && (await others.count()) > 0; i++) await page.waitForTimeout(20);
}
