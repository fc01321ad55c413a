import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /**
   * What went wrong in the page so far: uncaught errors, CSP violations and console errors.
   * A failed request shows in Chromium's console too ("Failed to load resource: … status of
   * 401"); those of the statuses in `expectedStatuses` are left out, since signing in with a
   * wrong role or an expired token is part of what a test may do on purpose.
   */
  problems(expectedStatuses?: number[]): string[];
  close(): Promise<void>;
}

const FAILED_RESOURCE = /^Failed to load resource: the server responded with a status of (\d+)/;

/**
 * Reports CSP violations to the console, where `problems()` sees them. Injected by the browser
 * itself before the page's scripts, so the page's own CSP does not apply to it.
 */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`;

/** A fresh browser context (its own cookies) with one page whose errors are recorded. */
export async function openWatchedPage(browser: Browser, baseURL: string): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  await context.addInitScript({ content: REPORT_CSP_VIOLATIONS });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return {
    context,
    page,
    problems: (expectedStatuses = []) =>
      errors.filter((text) => {
        const failed = FAILED_RESOURCE.exec(text);
        return !failed || !expectedStatuses.includes(Number(failed[1]));
      }),
    close: () => context.close(),
  };
}
