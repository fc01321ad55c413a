import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; playwright-core never downloads a browser of its own here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Set (CI's `.ci/run` does) to make a missing Chromium fail the run; otherwise the browser tests
 * are skipped, saying so, on a machine without one.
 */
export const REQUIRE_BROWSER_TESTS = ['1', 'true', 'yes'].includes(
  (process.env.REQUIRE_BROWSER_TESTS ?? '').toLowerCase(),
);

/** This machine has no outside network: nothing that would phone home, no sandbox (root in a container). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why Chromium cannot be launched, and how to install it; undefined when it is there. */
export function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    return (
      `No Chromium at ${CHROMIUM_PATH}: install it (\`apt-get install -y chromium\`) ` +
      'or point CHROMIUM_PATH at one.'
    );
  }
}

/** Launches headless Chromium, or fails saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
