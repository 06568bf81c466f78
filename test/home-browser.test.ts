import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../src/http/api-catalog.js';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import { serveApp, startTestApp } from './support/app.js';
import { launchChromium, skipBrowserTests } from '../harness/browser.js';
import { postBlobs as post } from './support/post.js';
import { loadSchema } from '../src/schema/load-schema.js';

const ARTIFACTS = path.resolve('test-artifacts');

const row = (page: Page, id: string) => page.locator(`#feed li[data-id="${id}"]`);
const status = (page: Page, state: string) => page.locator(`#status[data-state="${state}"]`);
const feedIds = (page: Page) => page.$$eval('#feed li', (rows) => rows.map((r) => (r as HTMLElement).dataset.id));

describe.skipIf(skipBrowserTests)('the home page in Chromium', () => {
  let browser: Browser;
  /** Whatever the page logs as an error or throws: a test fails on any. */
  const pageErrors: string[] = [];

  interface OpenOptions {
    width?: number;
    height?: number;
    /** Runs before the page loads: routes, init scripts. */
    before?: (context: BrowserContext) => Promise<void>;
    permissions?: string[];
  }

  async function openPage(url: string, { width = 1100, height = 1000, before, permissions = [] }: OpenOptions = {}): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width, height }, permissions });
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
    await before?.(context);
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
      const store = new LevelDbStore({ dataDir: path.join(dataDir, 'db'), dbName: 'bid_kpi', groupCommit: { maxItems: 500, concurrency: 4 } });
      await store.open();
      return store;
    };
    let store = await openStore();
    let t = await serveApp(store, { onClose: () => store.close() });
    const port = Number(new URL(t.url).port);
    try {
      const page = await openPage(t.url);
      await status(page, 'live').waitFor();
      await page.locator('#feed-empty', { hasText: 'No blobs yet' }).waitFor(); // read the (empty) store: what follows comes by the feed

      const nowSeconds = Math.floor(Date.now() / 1000);
      const blobs = [
        {
          timestamp: nowSeconds,
          user_agent: { browser: 'Firefox', version: '14.0', os: 'Macintosh' },
          event_stream: [
            ['screen.rp_info', 0],
            ['window.complete', 12_345],
          ],
        },
        {
          timestamp: Date.now(),
          user_agent: 'Mozilla/5.0 (X11; Linux x86_64) kpiggybank-test',
          event_stream: [
            ['screen.rp_info', 0],
            ['window.complete', 4_200],
          ],
        },
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
      const { event_stream, ...fields } = blobs[0]!;
      expect(JSON.parse(shown!)).toEqual({ _id: ids[0], ...fields });
      expect(await page.$$eval('#blob-view-events tbody tr', (rows) => rows.map((r) => [...(r as HTMLTableRowElement).cells].map((c) => c.textContent)))).toEqual(
        event_stream.map(([name, offset]) => [String(name), String(offset)]),
      );
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
      await page.locator('#ready[data-state="down"]').waitFor();
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

  it('shows the declared event types and the count of blobs the schema refused, and says so plainly without a schema', { timeout: 120_000 }, async () => {
    const t = await startTestApp('memory', { schema: await loadSchema('examples/browserid-signin.schema.toml') });
    const plain = await startTestApp('memory');
    try {
      const page = await openPage(t.url);
      await page.locator('#schema-status[data-state="loaded"]').waitFor();
      expect(await page.locator('#schema-status').textContent()).toMatch(/^One declared type: every POST is checked against it/);
      const table = page.locator('.schema-type[data-type="signin"]');
      expect(await table.locator('caption').textContent()).toBe('signin — for every blob; fields it does not declare are refused');
      const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent)));
      expect(rows).toHaveLength(19); // every field of the example, nested ones by their path
      expect(rows[0]).toEqual(['timestamp', 'timestamp', 'required', '—']);
      expect(rows).toEqual(
        expect.arrayContaining([
          ['lang', 'string', 'required', '35'],
          ['email_type', 'enum: primary, secondary', 'optional', '—'],
          ['user_agent', 'object, no other fields', 'required', '—'],
          ['user_agent.version', 'string', 'optional', '16, longer cut'],
          ['event_stream', 'array of array', 'optional', '—'],
        ]),
      );
      await page.locator('#rejected', { hasText: /^0$/ }).waitFor();

      // a blob of the schema's type is stored and shown; one it refuses moves the count (read with readiness, every 5 s)
      const now = Math.floor(Date.now() / 1000);
      const signin = { timestamp: now, lang: 'en-US', number_emails: 2, user_agent: { os: 'Linux', browser: 'Firefox', version: '14.0' } };
      const [stored] = await post(t.url, [signin]);
      await row(page, stored!).waitFor();
      const refused = await fetch(`${t.url}${Routes.blobs}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([signin, { ...signin, number_emails: 'two' }]),
      });
      expect(refused.status, 'the ingest refuses a blob that breaks the schema').toBe(400);
      await page.locator('#rejected', { hasText: /^2$/ }).waitFor(); // the batch's two blobs were refused
      expect(await page.locator('#count').textContent()).toBe('1');
      await mkdir(ARTIFACTS, { recursive: true });
      await page.locator('.schema').screenshot({ path: path.join(ARTIFACTS, 'home-schema.png') });

      // on a narrow screen each field is a path over its facts, and nothing scrolls sideways
      const narrow = await openPage(t.url, { width: 360, height: 900 });
      await narrow.locator('#schema-status[data-state="loaded"]').waitFor();
      expect(await narrow.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      expect(await narrow.locator('.schema-type thead').isHidden()).toBe(true);
      await narrow.locator('.schema').screenshot({ path: path.join(ARTIFACTS, 'home-schema-360.png') });
      await narrow.context().close();

      const none = await openPage(plain.url);
      await none.locator('#schema-status[data-state="none"]').waitFor();
      expect(await none.locator('#schema-status').textContent()).toBe('This service has no event schema (SCHEMA_FILE is not set): it accepts any blob with a timestamp.');
      expect(await none.locator('.schema-type').count()).toBe(0);
      await none.locator('#rejected', { hasText: 'no schema' }).waitFor();
      await none.context().close();
      expect(pageErrors).toEqual([]);
    } finally {
      await Promise.all([t.close(), plain.close()]);
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
      // the schema's read (401 before the token) is made again: this service has none
      await page.locator('#schema-status[data-state="none"]').waitFor();
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
        await post(
          t.url,
          Array.from({ length: 100 }, (_, i) => ({ timestamp: now - (batch * 100 + i) * 1500 })),
        );
      }
      await post(
        t.url,
        Array.from({ length: 30 }, (_, i) => ({ timestamp: Math.floor((now - i * 20_000) / 1000) })),
      );
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
        const ids = await post(
          t.url,
          Array.from({ length: 100 }, (_, i) => ({ timestamp: Math.floor(Date.now() / 1000), user_agent: `burst ${batch * 100 + i}` })),
        );
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

  it('shows the newest blobs on arrival, once each across the hand-over to the feed, and says when the store is empty', { timeout: 120_000 }, async () => {
    const t = await startTestApp('memory');
    try {
      const empty = await openPage(t.url);
      await status(empty, 'live').waitFor();
      await empty.locator('#feed-empty', { hasText: 'No blobs yet — POST one to /wsapi/interaction_data' }).waitFor();
      expect(await empty.locator('#feed li').count()).toBe(0);
      await empty.context().close();

      const base = Math.floor(Date.now() / 1000) - 600;
      const stored = await post(
        t.url,
        Array.from({ length: 60 }, (_, i) => ({ timestamp: base + i, user_agent: `stored ${i}` })),
      );
      // the page's range read is held while a blob arrives on the feed: that blob is in both
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let rangeAsked!: () => void;
      const asked = new Promise<void>((resolve) => (rangeAsked = resolve));
      const page = await openPage(t.url, {
        before: async (context) => {
          await context.route(
            (url) => url.pathname === Routes.blobs && url.searchParams.has('limit') && !url.searchParams.has('start'),
            async (route: Route) => {
              rangeAsked();
              await held;
              await route.continue();
            },
          );
        },
      });
      await asked;
      await status(page, 'live').waitFor();
      const [meanwhile] = await post(t.url, [{ timestamp: base + 100, user_agent: 'arrived during the load' }]);
      await row(page, meanwhile!).waitFor();
      release();
      await row(page, stored.at(-1)!).waitFor();
      const ids = await feedIds(page);
      expect(new Set(ids).size).toBe(ids.length); // none twice
      expect(ids[0]).toBe(meanwhile);
      expect(ids[1]).toBe(stored.at(-1)); // then the newest stored, newest first
      expect(await page.locator('#feed li').first().getAttribute('aria-setsize')).toBe('50'); // the default "keep the newest"
      expect(await page.locator('#feed-empty').isHidden()).toBe(true);
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('scales the chart from the minutes it shows: the axis and the caption name the busiest known minute', { timeout: 120_000 }, async () => {
    const t = await startTestApp('memory');
    try {
      const now = Date.now();
      // 5 a minute over the last 10 minutes, and 2,100 in the minute 20 minutes ago: the page's
      // load (2,000 newest) reaches only part of that minute, which is then shown grey
      await post(
        t.url,
        Array.from({ length: 50 }, (_, i) => ({ timestamp: now - i * 12_000 })),
      );
      const burst = Math.floor((now - 20 * 60_000) / 60_000) * 60_000;
      for (let batch = 0; batch < 21; batch++)
        await post(
          t.url,
          Array.from({ length: 100 }, (_, i) => ({ timestamp: burst + 100 + ((batch * 100 + i) % 59_000) })),
        );
      const page = await openPage(t.url);
      await page.waitForFunction(() => /in all/.test(document.getElementById('chart-caption')?.textContent ?? ''));
      const { caption, max, counts, grey } = await page.evaluate(() => ({
        caption: document.getElementById('chart-caption')?.textContent ?? '',
        max: document.querySelector('#chart text.scale-max')?.textContent ?? '',
        counts: [...document.querySelectorAll('#chart rect.bar title')].map((t) => Number(/: (\d+) blobs/.exec(t.textContent ?? '')?.[1])),
        grey: document.querySelectorAll('#chart rect.unknown').length,
      }));
      expect(grey).toBeGreaterThan(0);
      const busiest = Math.max(...counts);
      expect(busiest).toBeGreaterThanOrEqual(5);
      expect(busiest).toBeLessThan(20);
      expect(max).toBe(`${busiest}/min`);
      expect(caption).toContain(`had ${busiest}.`);
      // the busiest bar fills the plot
      const heights = await page.$$eval('#chart rect.bar', (rects) => rects.map((r) => Number(r.getAttribute('height'))));
      const full = await page.$eval('#chart rect.unknown', (r) => Number(r.getAttribute('height')));
      expect(Math.max(...heights)).toBeCloseTo(full, 0);
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('fits screens from 360 px up: no overlap, no sideways scroll, an unsquashed chart, a readable API table', { timeout: 120_000 }, async () => {
    const t = await startTestApp('memory');
    try {
      const now = Math.floor(Date.now() / 1000);
      await post(t.url, [
        {
          timestamp: now - 5,
          lang: 'de-DE',
          new_account: true,
          number_emails: 2,
          user_agent: 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:14.0) Gecko/20100101 Firefox/14.0',
          event_stream: [
            ['screen.rp_info', 0],
            ['assertion_generated', 9_000],
          ],
        },
        {
          timestamp: now,
          lang: 'en-US',
          user_agent: { browser: 'Chrome', version: '20.0.1132.47', os: 'Windows' },
          event_stream: [
            ['screen.rp_info', 0],
            ['window.unload', 3_000],
          ],
        },
      ]);
      await mkdir(ARTIFACTS, { recursive: true });
      for (const width of [360, 390, 1400]) {
        const page = await openPage(t.url, { width, height: 900 });
        await page.locator('#feed li').nth(1).waitFor();
        await page.waitForFunction(() => /in all/.test(document.getElementById('chart-caption')?.textContent ?? ''));
        const layout = await page.evaluate(() => {
          const box = (e: Element | null) => e?.getBoundingClientRect();
          const rows = [...document.querySelectorAll('#feed li')].map((li) => ({ when: box(li.querySelector('.when')), ua: box(li.querySelector('.ua')) }));
          const chart = document.getElementById('chart') as unknown as SVGSVGElement;
          const does = [...document.querySelectorAll('.api tbody td:last-child')].map((td) => td.getBoundingClientRect().width);
          return {
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            overlaps: rows.filter(({ when, ua }) => when && ua && when.right > ua.left && when.left < ua.right && when.bottom > ua.top && when.top < ua.bottom).length,
            // no cell of a row cut short, but the user agent (ellipsed on purpose: it can be any length)
            clipped: [...document.querySelectorAll('#feed li > :not(.ua)')].filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.className),
            // nor pushed out of its row (rows have a fixed height)
            outside: [...document.querySelectorAll('#feed li > *')]
              .filter((e) => e.getBoundingClientRect().bottom > e.parentElement!.getBoundingClientRect().bottom + 0.5)
              .map((e) => e.className),
            aspect: chart.getAttribute('preserveAspectRatio'),
            viewBoxWidth: chart.viewBox.baseVal.width,
            chartWidth: chart.getBoundingClientRect().width,
            narrowestDoes: Math.min(...does),
          };
        });
        expect(layout.scrollWidth, `sideways scroll at ${width} px`).toBeLessThanOrEqual(layout.innerWidth);
        expect(layout.overlaps, `date over user agent at ${width} px`).toBe(0);
        expect(layout.clipped, `cells cut at ${width} px`).toEqual([]);
        expect(layout.outside, `cells out of their row at ${width} px`).toEqual([]);
        expect(layout.aspect).not.toBe('none');
        expect(Math.abs(layout.viewBoxWidth - layout.chartWidth)).toBeLessThan(4); // drawn at its own size, text not squashed
        expect(layout.narrowestDoes, `the API table's descriptions at ${width} px`).toBeGreaterThan(Math.min(250, width / 2));
        await page.waitForFunction(() => document.getElementById('count')?.textContent === '2');
        await page.screenshot({ path: path.join(ARTIFACTS, `home-${width}.png`), fullPage: true });
        await page.locator('.glance').screenshot({ path: path.join(ARTIFACTS, `home-${width}-glance.png`) });
        await page.locator('.feed').screenshot({ path: path.join(ARTIFACTS, `home-${width}-feed.png`) });
        await page.context().close();
      }
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("shows each blob's lang, account, emails and outcome, filters the rows, tables the events, copies the blob, and says whether the service is ready", {
    timeout: 120_000,
  }, async () => {
    const t = await startTestApp('memory');
    try {
      const now = Math.floor(Date.now() / 1000);
      const blobs = [
        {
          timestamp: now - 2,
          lang: 'de-DE',
          new_account: true,
          number_emails: 2,
          user_agent: 'Firefox/14.0',
          event_stream: [
            ['screen.rp_info', 0],
            ['assertion_generated', 9_000],
          ],
        },
        {
          timestamp: now - 1,
          lang: 'en-US',
          new_account: false,
          number_emails: 1,
          user_agent: 'Chrome/20',
          event_stream: [
            ['screen.rp_info', 0],
            ['window.unload', 3_000],
          ],
        },
        {
          timestamp: now,
          user_agent: 'Safari/6',
          event_stream: [
            ['screen.rp_info', 0],
            ['cancel', 1_000],
          ],
        },
        { timestamp: now, user_agent: 'bare' },
      ];
      const ids = await post(t.url, blobs);
      const page = await openPage(t.url, { permissions: ['clipboard-read', 'clipboard-write'] });
      for (const id of ids) await row(page, id).waitFor();
      const cells = (id: string) => row(page, id).evaluate((li) => ['lang', 'account', 'emails', 'outcome'].map((c) => li.querySelector(`.${c}`)?.textContent));
      expect(await cells(ids[0]!)).toEqual(['de-DE', 'new', '2', 'signed in']);
      expect(await cells(ids[1]!)).toEqual(['en-US', 'existing', '1', 'closed']);
      expect(await cells(ids[2]!)).toEqual(['—', '—', '—', 'cancelled']);
      expect(await cells(ids[3]!)).toEqual(['—', '—', '—', '—']);

      // the filter narrows the loaded rows by their fields' text
      await page.locator('#feed-filter').fill('de-DE');
      await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 1);
      expect(await feedIds(page)).toEqual([ids[0]]);
      await page.locator('#feed-filter').fill('signed in');
      await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 1);
      await page.locator('#feed-filter').fill('no such thing');
      await page.locator('#feed-empty', { hasText: 'No loaded row matches' }).waitFor();
      await page.locator('#feed-filter').fill('');
      await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 4);

      // the dialog: the events as a table, and a copy of the blob's JSON
      await row(page, ids[0]!).locator('button.view').click();
      await page.locator('#blob-view[open]').waitFor();
      expect(await page.$$eval('#blob-view-events tbody tr', (rows) => rows.map((r) => [...(r as HTMLTableRowElement).cells].map((c) => c.textContent)))).toEqual([
        ['screen.rp_info', '0'],
        ['assertion_generated', '9000'],
      ]);
      await page.locator('#blob-view-copy').click();
      await page.locator('#blob-view-copied', { hasText: 'Copied' }).waitFor();
      expect(await page.locator('#blob-view-text').isHidden()).toBe(true); // the text box is only the fallback's
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'home-dialog.png') });
      expect(JSON.parse(await page.evaluate(() => navigator.clipboard.readText()))).toEqual({ _id: ids[0], ...blobs[0] });
      await page.keyboard.press('Escape');

      // readiness, and the metrics link
      await page.locator('#ready[data-state="ready"]', { hasText: 'ready' }).waitFor();
      expect(await page.locator('a[href="/metrics"]').count()).toBe(1);
      await page.context().close();

      // without navigator.clipboard (plain http elsewhere) the JSON is selected for the user to copy;
      // and a service that answers 503 reads "not ready" with its reason
      const bare = await openPage(t.url, {
        before: async (context) => {
          await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined }));
          await context.route('**/readyz', (route) =>
            route.fulfill({ status: 503, json: { error: 'store_unavailable', reason: 'the memory store is not reachable', extra: [1] } }),
          );
        },
      });
      await bare.locator('#ready[data-state="down"]', { hasText: 'not ready: the memory store is not reachable' }).waitFor();
      await row(bare, ids[0]!).locator('button.view').click();
      await bare.locator('#blob-view-copy').click();
      await bare.locator('#blob-view-copied', { hasText: /Selected|Copied/ }).waitFor();
      const selected = await bare.evaluate(() => {
        const area = document.getElementById('blob-view-text') as HTMLTextAreaElement;
        return document.activeElement === area ? area.value.slice(area.selectionStart, area.selectionEnd) : '';
      });
      expect(JSON.parse(selected)).toEqual({ _id: ids[0], ...blobs[0] });
      await bare.context().close();
      expect(pageErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
