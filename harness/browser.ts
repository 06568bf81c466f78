import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: playwright-core drives it, and downloads no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';

/** `SKIP_BROWSER_TESTS=1` skips the browser tests (they are reported as skipped); otherwise a missing Chromium fails them. */
export const skipBrowserTests = process.env.SKIP_BROWSER_TESTS === '1';
if (skipBrowserTests) console.warn('SKIP_BROWSER_TESTS=1: the browser tests are skipped');

/** Headless, and with Chromium's own calls home switched off: this machine's network refuses them. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the home page's browser tests need Debian's chromium ` +
        '(apt-get install -y --no-install-recommends chromium; .ci/run installs it), or set SKIP_BROWSER_TESTS=1 to skip them',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
