import { BlobDialog } from './blob-dialog.js';
import { timestampMs } from './blob-summary.js';
import { drawChart } from './chart.js';
import { FeedList } from './feed-list.js';
import { FeedSocket, type FeedStatus } from './feed-socket.js';
import { fetchJson, UnauthorizedError } from './fetch-json.js';
import { isFeedBlob, type FeedBlob } from './messages.js';
import { MINUTE_MS, MinuteHistogram } from './minute-histogram.js';
import { RateMeter } from './rate-meter.js';
import { saveReadToken } from './read-token.js';

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
  dialog: new BlobDialog(element('blob-view', HTMLDialogElement), element('blob-view-id', HTMLElement), element('blob-view-json', HTMLElement)),
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
const feed = new FeedList(page.feedBox, page.feed, clampLimit(stored));
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
    const value = await fetchJson('/wsapi/interaction_data/count');
    if (typeof value === 'number') count = value;
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
        const answer = await fetchJson(`/wsapi/interaction_data?start=${start}&end=${end}&descending=true&limit=${LOAD_LIMIT}&shape=blobs`);
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

// ---- the feed -------------------------------------------------------------------------------

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
  page.status.dataset.state = status.state;
  page.status.textContent = statusText(status);
  if (status.state === 'unauthorized') askForToken();
}

const socket = new FeedSocket(new URL('/wsapi/changes', location.href.replace(/^http/, 'ws')), {
  change(change, live) {
    if (change.deleted) {
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
    // a chart whose load failed (the store was down, say) tries again with the feed
    if (!chartLoaded && arrivedDuringLoad === undefined) void loadChart();
  },
  status: showStatus,
});

// ---- controls -------------------------------------------------------------------------------

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

socket.connect();
void loadChart();
setInterval(render, 1000);
setInterval(() => void syncCount(), RESYNC_COUNT_MS);
render();
