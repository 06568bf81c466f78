import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../src/http/api-catalog.js';
import { PouchDbStore } from '../src/store/pouchdb.js';
import { serveApp, startTestApp } from './support/app.js';
import { launchChromium, skipBrowserTests } from './support/browser.js';
import { postBlobs as post } from './support/post.js';

const ARTIFACTS = path.resolve('test-artifacts');

const row = (page: Page, id: string) => page.locator(`#feed li[data-id="${id}"]`);
const status = (page: Page, state: string) => page.locator(`#status[data-state="${state}"]`);
const feedIds = (page: Page) => page.$$eval('#feed li', (rows) => rows.map((r) => (r as HTMLElement).dataset.id));

describe.skipIf(skipBrowserTests)('the home page in Chromium', () => {
  let browser: Browser;
  /** Whatever the page logs as an error or throws: a test fails on any. */
  const pageErrors: string[] = [];

  async function openPage(url: string): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1100, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // a page whose server is down logs failed connections: expected here, anything else is not
    page.on('console', (m) => {
      if (m.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text())) pageErrors.push(m.text());
    });
    // nothing may come from another host
    await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/]|wss?:\/\/127\.0\.0\.1[:/])/, (route) => {
      pageErrors.push(`request to another host: ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(`${url}/`);
    return page;
  }

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows posted blobs, opens one, holds still under focus, drops a drained one, and catches up after the service restarts', { timeout: 180_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-home-'));
    const openStore = async () => {
      const store = new PouchDbStore({ dataDir: path.join(dataDir, 'db'), dbName: 'bid_kpi', groupCommit: { maxItems: 500, concurrency: 4 } });
      await store.open();
      return store;
    };
    let store = await openStore();
    let t = await serveApp(store, { onClose: () => store.close() });
    const port = Number(new URL(t.url).port);
    try {
      const page = await openPage(t.url);
      await status(page, 'live').waitFor();

      const nowSeconds = Math.floor(Date.now() / 1000);
      const blobs = [
        { timestamp: nowSeconds, user_agent: { browser: 'Firefox', version: '14.0', os: 'Macintosh' }, event_stream: [['screen.rp_info', 0], ['window.complete', 12_345]] },
        { timestamp: Date.now(), user_agent: 'Mozilla/5.0 (X11; Linux x86_64) kpiggybank-test', event_stream: [['screen.rp_info', 0], ['window.complete', 4_200]] },
        { timestamp: nowSeconds, user_agent: '<img src=x onerror="document.title=1">', event_stream: [['window.complete', 1_500]] },
      ];
      const ids = await post(t.url, blobs);
      for (const id of ids) await row(page, id).waitFor();
      expect(await feedIds(page)).toEqual([...ids].reverse()); // newest first
      const summaries = await page.$$eval('#feed li', (rows) => rows.map((r) => [r.querySelector('.ua')?.textContent, r.querySelector('.duration')?.textContent]));
      expect(summaries).toEqual([
        ['<img src=x onerror="document.title=1">', '1.5 s'],
        ['Mozilla/5.0 (X11; Linux x86_64) kpiggybank-test', '4.2 s'],
        ['Firefox 14.0 (Macintosh)', '12.3 s'],
      ]);
      expect(await page.locator('#feed img').count()).toBe(0); // blob content is text, never HTML
      expect(await row(page, ids[0]!).locator('time').getAttribute('datetime')).toBe(new Date(nowSeconds * 1000).toISOString());

      // the whole blob, pretty-printed, from the keyboard
      await row(page, ids[0]!).locator('button.view').focus();
      await page.keyboard.press('Enter');
      await page.locator('#blob-view[open]').waitFor();
      const shown = await page.locator('#blob-view-json').textContent();
      expect(shown).toContain('\n  "user_agent": {\n');
      expect(JSON.parse(shown!)).toEqual({ _id: ids[0], ...blobs[0] });
      await page.waitForFunction(() => document.getElementById('count')?.textContent === '3');
      await page.waitForFunction(() => document.getElementById('chart-caption')?.textContent?.includes(': 3 in all'));
      expect(await page.locator('#chart rect.bar').count()).toBe(60);
      await page.keyboard.press('Escape');
      await page.locator('#blob-view[open]').waitFor({ state: 'detached' });

      // focus is back on the view button: the list holds still until focus leaves it
      expect(await page.evaluate(() => document.activeElement?.closest('#feed') != null)).toBe(true);
      const [held] = await post(t.url, [{ timestamp: nowSeconds, user_agent: 'arrived while held', event_stream: [['window.complete', 500]] }]);
      await page.waitForFunction(() => document.getElementById('count')?.textContent === '4'); // the page has it
      await page.waitForTimeout(300); // more than a list update takes
      expect(await row(page, held!).count()).toBe(0);
      await page.locator('#feed-pause').focus();
      await row(page, held!).waitFor();

      // a drain removes a blob: it leaves the feed
      expect(await t.store.remove([ids[1]!])).toBe(1);
      await row(page, ids[1]!).waitFor({ state: 'detached' });
      expect(await feedIds(page)).toEqual([held, ids[2], ids[0]]);
      await page.waitForFunction(() => document.getElementById('count')?.textContent === '3');

      // the service stops: the page says so
      await t.close();
      await status(page, 'reconnecting').waitFor();
      expect(await page.locator('#status').textContent()).toMatch(/^disconnected — reconnecting/);

      // a blob stored while the page was away, then the service back on the same address and data
      store = await openStore();
      const [whileAway] = (await store.save([{ timestamp: nowSeconds, user_agent: 'stored while the page was away', event_stream: [['window.complete', 2_000]] }])).ids;
      t = await serveApp(store, { port, onClose: () => store.close() });
      await row(page, whileAway!).waitFor();
      await status(page, 'live').waitFor();
      const [after] = await post(t.url, [{ timestamp: nowSeconds, user_agent: 'posted after the restart', event_stream: [['window.complete', 3_000]] }]);
      await row(page, after!).waitFor();
      expect(await feedIds(page)).toEqual([after, whileAway, held, ids[2], ids[0]]); // caught up once each, in order
      await page.waitForFunction(() => document.getElementById('count')?.textContent === '5');

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'home.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('reads without JavaScript: the API table and the client example are in the page itself', { timeout: 60_000 }, async () => {
    const t = await startTestApp('memory');
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${t.url}/`);
      expect(await page.locator('.api tbody tr').count()).toBe(API_ROUTES.length);
      expect(await page.locator('.api tbody tr').first().innerText()).toMatch(/^POST\s+\/wsapi\/interaction_data\s+store one blob/);
      expect(await page.locator('.api pre').innerText()).toContain("kpi.changes({ since: 'now' })");
      expect(await page.locator('#status').textContent()).toBe('needs JavaScript');
    } finally {
      await context.close();
      await t.close();
    }
  });

  it('asks for the read token when the feed needs one, and keeps it for the tab', { timeout: 120_000 }, async () => {
    const t = await startTestApp('memory', { tokens: { read: 'r3ad-t0ken' } });
    try {
      const page = await openPage(t.url);
      await page.locator('#token-form').waitFor({ state: 'visible' });
      await status(page, 'unauthorized').waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('token-input');
      await page.keyboard.type('r3ad-t0ken');
      await page.keyboard.press('Enter');
      await status(page, 'live').waitFor();
      expect(await page.locator('#token-form').isHidden()).toBe(true);
      expect(await page.evaluate(() => sessionStorage.getItem('kpiggybank.readToken'))).toBe('r3ad-t0ken');
      const [id] = await post(t.url, [{ timestamp: Math.floor(Date.now() / 1000), user_agent: 'behind a token' }]);
      await row(page, id!).waitFor();
      await page.waitForFunction(() => document.getElementById('count')?.textContent === '1');
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('draws the last hour from the range API, in seconds and milliseconds, greying the minutes its load limit did not reach', { timeout: 120_000 }, async () => {
    const t = await startTestApp('memory');
    try {
      // 2,100 blobs with millisecond timestamps, one every 1.5 s back from now (52 minutes), and
      // 30 with second timestamps in the newest ten minutes; the page loads at most 2,000 per unit
      const now = Date.now();
      for (let batch = 0; batch < 21; batch++) {
        await post(t.url, Array.from({ length: 100 }, (_, i) => ({ timestamp: now - (batch * 100 + i) * 1500 })));
      }
      await post(t.url, Array.from({ length: 30 }, (_, i) => ({ timestamp: Math.floor((now - i * 20_000) / 1000) })));
      const page = await openPage(t.url);
      await page.waitForFunction(() => /in all/.test(document.getElementById('chart-caption')?.textContent ?? ''));
      // caption and bars are drawn together: read both at once
      const { caption, grey } = await page.evaluate(() => ({
        caption: document.getElementById('chart-caption')?.textContent ?? '',
        grey: document.querySelectorAll('#chart rect.unknown').length,
      }));
      const [, total, unknown] = /: (\d+) in all \(the (\d+) oldest minutes were not loaded/.exec(caption) ?? [];
      // the newest 2,000 reach back 50 minutes: the ten minutes before (and the one they end in) are grey
      expect(Number(unknown)).toBeGreaterThanOrEqual(10);
      expect(Number(unknown)).toBeLessThanOrEqual(12);
      expect(grey).toBe(Number(unknown));
      // every blob of the minutes after the oldest one loaded is counted, the second-stamped ones too
      const knownFrom = Math.floor((now - 1999 * 1500) / 60_000) + 1;
      const expected = 30 + Array.from({ length: 2000 }, (_, i) => now - i * 1500).filter((ms) => Math.floor(ms / 60_000) >= knownFrom).length;
      expect(Number(total)).toBe(expected);
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('keeps only the newest N rows while blobs pour in, without moving the rest of the page', { timeout: 120_000 }, async () => {
    const t = await startTestApp('memory');
    try {
      const page = await openPage(t.url);
      await status(page, 'live').waitFor();
      await page.locator('#feed-limit').fill('100');
      await page.locator('#feed-limit').dispatchEvent('change');
      const apiAt = async () => (await page.locator('#api-title').boundingBox())?.y;
      const apiBefore = await apiAt();
      let last: string | undefined;
      for (let batch = 0; batch < 20; batch++) {
        const ids = await post(t.url, Array.from({ length: 100 }, (_, i) => ({ timestamp: Math.floor(Date.now() / 1000), user_agent: `burst ${batch * 100 + i}` })));
        last = ids.at(-1);
      }
      await row(page, last!).waitFor();
      const top = page.locator('#feed li').first();
      expect(await top.getAttribute('data-id')).toBe(last);
      expect(await top.getAttribute('aria-setsize')).toBe('100'); // the list holds the newest 100
      const rendered = await page.locator('#feed li').count();
      expect(rendered).toBeLessThan(100); // of which only those in view are in the DOM
      expect(await apiAt()).toBe(apiBefore); // the feed's box kept its size: nothing below it moved
      await page.waitForFunction(() => document.getElementById('count')?.textContent === '2,000');

      // scrolled to the end, the box shows the 100th newest, and the list still holds 100
      await page.locator('#feed-box').evaluate((box) => box.scrollTo(0, box.scrollHeight));
      const oldest = page.locator('#feed li[aria-posinset="100"]');
      await oldest.waitFor();
      expect(await oldest.locator('.ua').textContent()).toBe('burst 1900');
      expect(await page.locator('#feed li').count()).toBeLessThan(100);
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
