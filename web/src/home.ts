import { BlobDialog } from './blob-dialog.js';
import { timestampMs } from './blob-summary.js';
import { drawChart } from './chart.js';
import { FeedList } from './feed-list.js';
import { FeedSocket, type FeedStatus } from './feed-socket.js';
import { fetchJson, UnauthorizedError } from './fetch-json.js';
import { isFeedBlob, type FeedBlob } from './messages.js';
import { MINUTE_MS, MinuteHistogram } from './minute-histogram.js';
import { RateMeter } from './rate-meter.js';
import { Routes } from './portable/routes.js';
import { readiness } from './readiness.js';
import { saveReadToken } from './read-token.js';
import { counterValue } from './prometheus-text.js';
import { showSchema } from './schema-section.js';
import { readEventSchema } from './schema-summary.js';

/**
 * The home page's live parts: count and rate, the chart of blobs per minute, the feed of the newest
 * blobs. Wires the page's elements (rendered by the server, src/http/home-page.ts) to the feed.
 */

const HOUR_MS = 60 * MINUTE_MS;
/**
 * The chart's first picture reads the last hour through the range API, newest first, at most this
 * many blobs per timestamp unit: at 1,000 blobs/s an hour is 3.6 million blobs, too many for a page
 * to fetch. Minutes older than what the limit reached are drawn grey ("not loaded"); the feed
 * fills in every minute from then on.
 */
const LOAD_LIMIT = 2000;
const RESYNC_COUNT_MS = 30_000;
const READINESS_MS = 5_000;
const LIMIT_KEY = 'kpiggybank.feedLimit';

function element<T extends Element>(id: string, type: { new (): T; prototype: T }): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no #${id}`);
  return found;
}

const page = {
  count: element('count', HTMLElement),
  rate: element('rate', HTMLElement),
  status: element('status', HTMLElement),
  tokenForm: element('token-form', HTMLFormElement),
  tokenInput: element('token-input', HTMLInputElement),
  chart: element('chart', SVGSVGElement),
  chartCaption: element('chart-caption', HTMLElement),
  feed: element('feed', HTMLOListElement),
  feedBox: element('feed-box', HTMLElement),
  limit: element('feed-limit', HTMLInputElement),
  pause: element('feed-pause', HTMLButtonElement),
  filter: element('feed-filter', HTMLInputElement),
  feedEmpty: element('feed-empty', HTMLElement),
  ready: element('ready', HTMLElement),
  rejected: element('rejected', HTMLElement),
  schemaStatus: element('schema-status', HTMLElement),
  schemaTypes: element('schema-types', HTMLElement),
  dialog: new BlobDialog(element('blob-view', HTMLDialogElement)),
};

function clampLimit(value: number): number {
  return Number.isInteger(value) ? Math.min(1000, Math.max(1, value)) : 50;
}

/** localStorage can be refused (privacy settings): the page then starts with the default. */
function storedLimit(): number {
  try {
    return Number(localStorage.getItem(LIMIT_KEY) ?? page.limit.value);
  } catch {
    return Number(page.limit.value);
  }
}

const stored = storedLimit();
page.limit.value = String(clampLimit(stored));
const feed = new FeedList(page.feedBox, page.feed, clampLimit(stored), showEmpty);
const histogram = new MinuteHistogram();
const rate = new RateMeter();
let count: number | undefined;

// ---- the read token -------------------------------------------------------------------------

function askForToken(): void {
  if (!page.tokenForm.hidden) return;
  page.tokenForm.hidden = false;
  page.tokenInput.focus();
}

page.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = page.tokenInput.value.trim();
  if (token === '') return;
  saveReadToken(token);
  page.tokenInput.value = '';
  page.tokenForm.hidden = true;
  socket.connect(); // its `live` loads the chart if it is not yet
});

function failed(error: unknown): void {
  if (error instanceof UnauthorizedError) askForToken();
  else console.warn(error);
}

// ---- count, rate, chart ---------------------------------------------------------------------

/**
 * The count comes from the service on every (re)connection and every 30 s; between, the feed
 * moves it (+1 a blob, −1 a deletion). A change that lands while the count is being read may be
 * counted twice or not at all: the next resync puts it right.
 */
async function syncCount(): Promise<void> {
  try {
    const value = await fetchJson(Routes.count);
    if (typeof value === 'number') {
      count = value;
      render(); // now, not at the next second's redraw
    }
  } catch (error) {
    failed(error);
  }
}

let chartLoaded = false;
/** Blobs the feed brought while the chart's range was loading, which the range may also hold. */
let arrivedDuringLoad: Map<string, number> | undefined;

async function loadChart(): Promise<void> {
  arrivedDuringLoad = new Map();
  const now = Date.now();
  try {
    // seconds and milliseconds (see timestampMs): two disjoint ranges of stored values
    const ranges = await Promise.all(
      [1000, 1].map(async (unit) => {
        const start = Math.floor((now - HOUR_MS) / unit);
        const end = Math.ceil((now + MINUTE_MS) / unit);
        const answer = await fetchJson(`${Routes.blobs}?start=${start}&end=${end}&descending=true&limit=${LOAD_LIMIT}&shape=blobs`);
        return Array.isArray(answer) ? answer.filter(isFeedBlob) : [];
      }),
    );
    const loaded = new Set<string>();
    let partialUntil: number | undefined;
    for (const blobs of ranges) {
      for (const blob of blobs) {
        loaded.add(blob._id);
        histogram.add(timestampMs(blob.timestamp));
      }
      const oldest = blobs[blobs.length - 1];
      if (blobs.length >= LOAD_LIMIT && oldest !== undefined) partialUntil = Math.max(partialUntil ?? -Infinity, timestampMs(oldest.timestamp));
    }
    for (const [id, ms] of arrivedDuringLoad) if (!loaded.has(id)) histogram.add(ms);
    histogram.loaded(partialUntil);
    chartLoaded = true;
  } catch (error) {
    failed(error);
  } finally {
    arrivedDuringLoad = undefined;
  }
  render();
}

function chartAdd(blob: FeedBlob): void {
  const ms = timestampMs(blob.timestamp);
  if (arrivedDuringLoad) arrivedDuringLoad.set(blob._id, ms);
  else if (chartLoaded) histogram.add(ms);
}

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** Text and chart are redrawn once a second, not per blob. */
function render(): void {
  const now = Date.now();
  page.count.textContent = count === undefined ? '–' : number.format(count);
  page.rate.textContent = `${number.format(rate.rate(now))} blobs/s`;
  drawChart(page.chart, page.chartCaption, histogram.bars(now));
}

// ---- the event schema and its rejections ----------------------------------------------------

/** Whether the service declares an event schema; undefined until its answer came. */
let hasSchema: boolean | undefined;
let schemaReading = false;

/** `GET /wsapi/schema`, on load and whenever the feed is live again (a restarted service may have another schema). */
async function loadSchema(): Promise<void> {
  if (schemaReading) return;
  schemaReading = true;
  try {
    const answer = await fetchJson(Routes.schema, { missingIsUndefined: true });
    const schema = answer === undefined ? undefined : readEventSchema(answer);
    if (answer !== undefined && schema === undefined) throw new Error(`${Routes.schema} answered something that is not an event schema`);
    hasSchema = schema !== undefined;
    showSchema(page.schemaStatus, page.schemaTypes, schema);
    void syncRejected();
  } catch (error) {
    failed(error);
  } finally {
    schemaReading = false;
  }
}

/**
 * Blobs refused for breaking the schema, from the service's own counter on `/metrics` (open, as
 * the page's metrics link is), read with readiness: the feed carries stored blobs only.
 */
async function syncRejected(): Promise<void> {
  if (hasSchema === undefined) return;
  if (!hasSchema) {
    page.rejected.textContent = 'no schema';
    return;
  }
  try {
    const res = await fetch(Routes.metrics, { cache: 'no-store' });
    if (res.ok) page.rejected.textContent = number.format(counterValue(await res.text(), 'kpiggybank_blobs_rejected_total', { reason: 'schema_violation' }));
  } catch {
    // the service is away: readiness says so, and the next reading puts the figure right
  }
}

// ---- the feed -------------------------------------------------------------------------------

/** Whether the newest blobs were read, to show on arrival (once: after that the feed brings them). */
let newest: 'unread' | 'reading' | 'read' = 'unread';
/** Deletions the feed brought while that read was under way: the read may still hold them. */
let deletedDuringRead: Set<string> | undefined;

/** Timestamps below 1e12 are seconds, above milliseconds (timestampMs): one range read each. */
const NEWEST_RANGES = ['end=999999999999', 'start=1000000000000'];

/**
 * The newest N blobs, read once the feed is live (connected with since=now, so every blob stored
 * from then on arrives through it). A blob stored in between is in both: the list keeps one per id,
 * the feed's above the read's, which go below whatever the feed brought meanwhile.
 */
async function readNewest(): Promise<void> {
  newest = 'reading';
  deletedDuringRead = new Set();
  const limit = clampLimit(page.limit.valueAsNumber);
  try {
    const answers = await Promise.all(
      NEWEST_RANGES.map(async (range) => {
        const answer = await fetchJson(`${Routes.blobs}?${range}&descending=true&limit=${limit}&shape=blobs`);
        return Array.isArray(answer) ? answer.filter(isFeedBlob) : [];
      }),
    );
    const deleted = deletedDuringRead;
    const blobs = answers
      .flat()
      .filter((b) => !deleted.has(b._id))
      .sort((a, b) => timestampMs(b.timestamp) - timestampMs(a.timestamp))
      .slice(0, limit);
    newest = 'read';
    feed.addOlder(blobs);
  } catch (error) {
    newest = 'unread'; // the next `live` tries again
    failed(error);
  } finally {
    deletedDuringRead = undefined;
  }
}

/** Says why the list is empty: loading, a store with no blobs, or a filter that matches none. */
function showEmpty(shown: number, held: number): void {
  page.feedEmpty.hidden = shown > 0;
  if (shown > 0) return;
  page.feedEmpty.textContent = held > 0 ? 'No loaded row matches the filter.' : newest === 'read' ? `No blobs yet — POST one to ${Routes.blobs}` : 'Loading the newest blobs…';
}

function statusText(status: FeedStatus): string {
  switch (status.state) {
    case 'connecting':
      return 'connecting…';
    case 'live':
      return 'connected, live';
    case 'reconnecting':
      return `disconnected — reconnecting in ${Math.max(1, Math.round(status.inMs / 1000))} s`;
    case 'unauthorized':
      return 'disconnected — the read token is needed';
  }
}

function showStatus(status: FeedStatus): void {
  if (status.state !== 'connecting' && page.status.dataset.state !== status.state) void showReadiness();
  page.status.dataset.state = status.state;
  page.status.textContent = statusText(status);
  if (status.state === 'unauthorized') askForToken();
}

const socket = new FeedSocket(new URL(Routes.changes, location.href.replace(/^http/, 'ws')), {
  change(change, live) {
    if (change.deleted) {
      deletedDuringRead?.add(change.id);
      feed.remove(change.id);
      if (live && count !== undefined) count--;
      return;
    }
    feed.add(change.doc);
    chartAdd(change.doc);
    if (live) {
      rate.record(Date.now());
      if (count !== undefined) count++;
    }
  },
  live() {
    void syncCount();
    if (newest === 'unread') void readNewest();
    // a chart whose load failed (the store was down, say) tries again with the feed
    if (!chartLoaded && arrivedDuringLoad === undefined) void loadChart();
    // a service restarted with another SCHEMA_FILE serves another schema, and its counter starts again
    void loadSchema();
  },
  status: showStatus,
});

// ---- readiness ------------------------------------------------------------------------------

/** `/readyz`, every few seconds and whenever the feed connects or drops. */
async function showReadiness(): Promise<void> {
  const state = await readiness();
  page.ready.dataset.state = state.state;
  page.ready.textContent = state.state === 'ready' ? 'ready' : `not ready: ${state.reason}`;
  page.ready.title = page.ready.textContent;
}

// ---- controls -------------------------------------------------------------------------------

page.filter.addEventListener('input', () => feed.setFilter(page.filter.value));

page.limit.addEventListener('change', () => {
  const limit = clampLimit(page.limit.valueAsNumber);
  page.limit.value = String(limit);
  try {
    localStorage.setItem(LIMIT_KEY, String(limit));
  } catch {
    // kept for this page only
  }
  feed.setLimit(limit);
});

page.pause.addEventListener('click', () => {
  const paused = page.pause.getAttribute('aria-pressed') !== 'true';
  page.pause.setAttribute('aria-pressed', String(paused));
  page.pause.textContent = paused ? 'Resume' : 'Pause';
  feed.hold('button', paused);
});

// A row must stay put while someone points at it or tabs through the list.
page.feedBox.addEventListener('pointerenter', () => feed.hold('pointer', true));
page.feedBox.addEventListener('pointerleave', () => feed.hold('pointer', false));
page.feedBox.addEventListener('focusin', () => feed.hold('focus', true));
page.feedBox.addEventListener('focusout', (event) => {
  if (!(event.relatedTarget instanceof Node && page.feedBox.contains(event.relatedTarget))) feed.hold('focus', false);
});

page.feed.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button.view') : null;
  const id = button instanceof HTMLElement ? button.dataset.id : undefined;
  const blob = id === undefined ? undefined : feed.blob(id);
  if (blob) page.dialog.show(blob);
});

showEmpty(0, 0);
socket.connect();
void loadChart();
void showReadiness();
void loadSchema();
setInterval(() => {
  void showReadiness();
  void syncRejected();
}, READINESS_MS);
setInterval(render, 1000);
setInterval(() => void syncCount(), RESYNC_COUNT_MS);
render();
