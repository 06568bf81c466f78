// The home page under load: blobs POSTed at a steady rate while the page shows them in Chromium;
// prints the page's frame times (requestAnimationFrame) and long tasks (PerformanceObserver) for an
// idle stretch and for the loaded one, and checks that the feed kept only its newest N rows.
//   npm run bench:home -- [--rate 1000] [--seconds 10] [--limit 50] [--paused]
// --paused presses the feed's Pause button first: what receiving the feed costs without the list.
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { Routes } from 'kpiggybank-client/wire';
import { percentile } from '../src/loadtest/percentiles.js';
import { startService } from '../harness/service.js';
import { launchChromium } from '../harness/browser.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    limit: { type: 'string', default: '50' },
    paused: { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const limit = Number(values.limit);

const server = await startService('memory');
const { url } = server;

interface Figures {
  frames: number[];
  longTasks: number[];
}

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
// Installed before the page's own script; init scripts are not subject to the page's CSP. Given as
// text: tsx would add helpers (__name) to a function that the page does not have.
await page.addInitScript(`
  const figures = { frames: [], longTasks: [] };
  window.__bench = figures;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) figures.longTasks.push(entry.duration);
  }).observe({ type: 'longtask', buffered: true });
  let previous = performance.now();
  const frame = (now) => {
    figures.frames.push(now - previous);
    previous = now;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
`);
// Chromium's own tally of the page's main-thread time (script, style, layout), in seconds.
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const busy = async () => {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
  return { task: get('TaskDuration'), script: get('ScriptDuration'), style: get('RecalcStyleDuration'), layout: get('LayoutDuration') };
};
type Busy = Awaited<ReturnType<typeof busy>>;
const busyReport = (before: Busy, after: Busy, ms: number) => {
  const pct = (k: keyof Busy) => `${(((after[k] - before[k]) * 1000 * 100) / ms).toFixed(0)}%`;
  return `main thread busy ${pct('task')} of the time (script ${pct('script')}, style ${pct('style')}, layout ${pct('layout')})`;
};
await page.goto(`${url}/`);
await page.locator('#status[data-state="live"]').waitFor();
await page.locator('#feed-limit').fill(String(limit));
await page.locator('#feed-limit').dispatchEvent('change');
if (values.paused) await page.locator('#feed-pause').click();

const take = (): Promise<Figures> => page.evaluate('({ frames: window.__bench.frames.splice(0), longTasks: window.__bench.longTasks.splice(0) })');

function report(what: string, { frames, longTasks }: Figures, ms: number): void {
  const sorted = [...frames].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1);
  console.log(
    `${what}: ${frames.length} frames in ${(ms / 1000).toFixed(1)} s (${f(frames.length / (ms / 1000))} fps); frame time p50 ${f(percentile(sorted, 50))} ms, ` +
      `p95 ${f(percentile(sorted, 95))} ms, p99 ${f(percentile(sorted, 99))} ms, max ${f(sorted.at(-1) ?? 0)} ms; ` +
      `long tasks (>50 ms): ${longTasks.length}, total ${f(longTasks.reduce((a, b) => a + b, 0))} ms, longest ${f(Math.max(0, ...longTasks))} ms`,
  );
}

await take();
const idleMs = 3000;
const idleBefore = await busy();
await new Promise((resolve) => setTimeout(resolve, idleMs));
report('idle', await take(), idleMs);
console.log(`  ${busyReport(idleBefore, await busy(), idleMs)}`);

// A batch every 50 ms, of as many blobs as keep the total on the rate, like many services posting at once.
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const post = (blobs: object[]) =>
  new Promise<void>((resolve, reject) => {
    const body = JSON.stringify(blobs);
    const req = request(`${url}${Routes.blobs}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`POST answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
let sent = 0;
const loadBefore = await busy();
const started = Date.now();
const posts: Promise<void>[] = [];
while (Date.now() - started < seconds * 1000) {
  const tick = Date.now();
  const perTick = Math.round((rate * (tick - started)) / 1000) + Math.round(rate / 20) - sent;
  posts.push(
    post(
      Array.from({ length: perTick }, (_, i) => ({
        timestamp: Date.now(),
        n: sent + i,
        lang: 'en-US',
        user_agent: { browser: 'Firefox', version: '14.0', os: 'Linux' },
        screen_size: { width: 1680, height: 1050 },
        event_stream: Array.from({ length: 8 }, (_, k) => [`screen.step${k}`, k * 1500 + ((sent + i) % 1000)]),
      })),
    ),
  );
  sent += perTick;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - (Date.now() - tick))));
}
await Promise.all(posts);
const loadedMs = Date.now() - started;
const loaded = await take();
const loadAfter = await busy();
await page.waitForFunction((total) => document.getElementById('count')?.textContent?.replace(/\D/g, '') === String(total), sent, { timeout: 60_000 }).catch(() => undefined);
const rendered = await page.locator('#feed li').count();
const rows = Number(await page.locator('#feed li').first().getAttribute('aria-setsize'));
const shownCount = await page.locator('#count').textContent();
const shownRate = await page.locator('#rate').textContent();
report(`${rate} blobs/s for ${seconds} s (${sent} blobs, ${(sent / (loadedMs / 1000)).toFixed(0)}/s achieved)`, loaded, loadedMs);
console.log(`  ${busyReport(loadBefore, loadAfter, loadedMs)}`);
console.log(
  `feed rows: ${rows} (limit ${limit})${rows <= limit ? '' : ' — MORE THAN THE LIMIT'}, ${rendered} of them in the DOM; count shown: ${shownCount}; rate shown at the end: ${shownRate}`,
);

await browser.close();
agent.destroy();
await server.stop();
process.exitCode = rows <= limit ? 0 : 1;
