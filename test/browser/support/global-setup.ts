import { chromiumMissing, REQUIRE_BROWSER_TESTS } from './chromium';

/**
 * The browser project's global setup: without Chromium its tests are skipped (the spec's
 * `describe.skipIf`), and this says so at the start and again at the end of the run; with
 * REQUIRE_BROWSER_TESTS set (CI) a missing Chromium fails the run at once instead.
 */
export default function setup(): (() => void) | undefined {
  const missing = chromiumMissing();
  if (!missing) return undefined;
  if (REQUIRE_BROWSER_TESTS) {
    throw new Error(`REQUIRE_BROWSER_TESTS is set, so the browser tests must run: ${missing}`);
  }
  const notice = `Skipping the browser tests (test/browser): ${missing}`;
  console.warn(`\n${notice}\n`);
  return () => console.warn(`\n${notice}\n`);
}
