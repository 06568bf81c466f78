import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Routes } from 'kpiggybank-client/wire';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchChromium, skipBrowserTests } from '../../harness/browser.js';

const entry = fileURLToPath(new URL('../../client/dist/index.js', import.meta.url));

/** What the page reports back: every method's result, as plain JSON. */
interface PageReport {
  ping: boolean;
  saved: number;
  count: number;
  got: unknown;
  range: number[];
  iterated: number;
  last: number | undefined;
  change: unknown;
  error: { name: string; status: number; code: string | undefined };
  hasWs: boolean;
}

describe.skipIf(skipBrowserTests)('the client package bundled for a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let bundle: string;
  beforeAll(async () => {
    // the built package, bundled as a browser app would bundle it (`ws` maps to nothing there)
    const result = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    bundle = result.outputFiles[0]!.text;
    t = await startTestApp('memory');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('does every call and follows the change feed in headless Chromium', { timeout: 60_000 }, async () => {
    expect(bundle).not.toMatch(/require\(["']ws["']\)/);
    const page = await browser.newPage();
    // A page the service itself serves (Chromium lets only such a page reach a loopback address),
    // into which the bundle is loaded as a module, as a web app would load it.
    await page.route(`${t.url}/client-test/kpiggybank-client.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: bundle }));
    await page.goto(`${t.url}${Routes.ping}`);
    await page.addScriptTag({ type: 'module', content: "import * as kpiggybank from '/client-test/kpiggybank-client.js'; window.kpiggybank = kpiggybank;" });
    await page.waitForFunction(() => 'kpiggybank' in window);
    const report = await page.evaluate(async (): Promise<PageReport> => {
      const { KpiggybankClient } = (window as unknown as { kpiggybank: typeof import('kpiggybank-client') }).kpiggybank;
      const kpi = new KpiggybankClient(location.origin);
      await kpi.ping();
      const states: string[] = [];
      const feed = kpi.changes({ onState: (state) => states.push(state) });
      while (!states.includes('live')) await new Promise((resolve) => setTimeout(resolve, 20));
      const saved = await kpi.save([
        { timestamp: 1, browser: true },
        { timestamp: 2, browser: true },
      ]);
      const first = await feed[Symbol.asyncIterator]().next();
      feed.close();
      const iterated: unknown[] = [];
      for await (const blob of kpi.iterate({ pageSize: 1 })) iterated.push(blob);
      const error = await kpi.save({ timestamp: -1 }).then(
        () => ({ name: 'none', status: 0, code: undefined }),
        (e: { name: string; status: number; code: string | undefined }) => e,
      );
      return {
        ping: true,
        saved: saved.ids.length,
        count: await kpi.count(),
        got: await kpi.get(saved.ids[0]!),
        range: (await kpi.range({ start: 1, end: 2 })).map((blob) => blob.timestamp),
        iterated: iterated.length,
        last: (await kpi.last())?.timestamp,
        change: first.value?.doc,
        error: { name: error.name, status: error.status, code: error.code },
        hasWs: typeof WebSocket === 'function',
      };
    });
    expect(report).toMatchObject({ ping: true, saved: 2, count: 2, range: [1, 2], iterated: 2, last: 2, hasWs: true });
    expect(report.got).toMatchObject({ timestamp: 1, browser: true });
    expect(report.change).toMatchObject({ timestamp: 1, browser: true });
    expect(report.error).toEqual({ name: 'KpiggybankHttpError', status: 400, code: 'invalid_blob' });
    await page.close();
  });
});
