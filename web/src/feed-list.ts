import { durationSecondsOf, formatDuration, readableDate, userAgentOf } from './blob-summary.js';
import type { FeedBlob } from './messages.js';

/**
 * Least time between two updates of the list. Nobody reads rows that change faster than this, and
 * at 1,000 blobs/s updating every frame kept the page's main thread busy most of the time.
 */
const MIN_UPDATE_MS = 100;

/**
 * The newest blobs, newest first, at most `limit` of them. Arrivals and removals are queued and
 * applied together in one animation frame, at most every MIN_UPDATE_MS, so 1,000 blobs a second
 * cost ten DOM updates a second, and of a burst only the rows that would stay are ever built.
 * What is queued is bounded too (at most `limit` arrivals), so a held list or a hidden tab does
 * not grow.
 */
export class FeedList {
  /** The blob of each row on screen, by id, for the "view" button. */
  private readonly shown = new Map<string, { row: HTMLLIElement; blob: FeedBlob }>();
  private readonly arriving = new Map<string, FeedBlob>();
  private readonly leaving = new Set<string>();
  private scheduled = false;
  private lastUpdate = -Infinity;
  /** Why the list holds still: the Pause button, the pointer over it, keyboard focus in it. */
  private readonly holds = new Set<'button' | 'pointer' | 'focus'>();

  constructor(
    private readonly list: HTMLOListElement,
    private limit: number,
  ) {}

  add(blob: FeedBlob): void {
    if (this.shown.has(blob._id)) return;
    this.arriving.set(blob._id, blob);
    // keep only the newest `limit` arrivals: older ones would be pushed out before being seen
    if (this.arriving.size > this.limit) this.arriving.delete(this.arriving.keys().next().value!);
    this.schedule();
  }

  remove(id: string): void {
    if (this.arriving.delete(id)) return;
    if (!this.shown.has(id)) return;
    this.leaving.add(id);
    this.schedule();
  }

  blob(id: string): FeedBlob | undefined {
    return this.shown.get(id)?.blob;
  }

  setLimit(limit: number): void {
    this.limit = limit;
    this.schedule();
  }

  /**
   * Held, the list changes nothing on screen (what arrives meanwhile is queued, bounded as ever):
   * a row must not vanish under the pointer or from under keyboard focus before it is clicked.
   */
  hold(reason: 'button' | 'pointer' | 'focus', on: boolean): void {
    if (on) this.holds.add(reason);
    else this.holds.delete(reason);
    this.list.toggleAttribute('data-held', this.paused);
    if (!this.paused) this.schedule();
  }

  private get paused(): boolean {
    return this.holds.size > 0;
  }

  private schedule(): void {
    if (this.scheduled || this.paused) return;
    this.scheduled = true;
    const wait = Math.max(0, this.lastUpdate + MIN_UPDATE_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => this.flush()), wait);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.paused) return; // paused after this update was scheduled
    this.lastUpdate = performance.now();
    for (const id of this.leaving) this.drop(id);
    this.leaving.clear();
    const fresh = [...this.arriving.values()].slice(-this.limit);
    this.arriving.clear();
    const rows = document.createDocumentFragment();
    for (let i = fresh.length - 1; i >= 0; i--) {
      const blob = fresh[i]!;
      const row = this.row(blob);
      this.shown.set(blob._id, { row, blob });
      rows.append(row);
    }
    this.list.prepend(rows);
    for (let excess = this.shown.size - this.limit; excess > 0; excess--) {
      const last = this.list.lastElementChild;
      if (!(last instanceof HTMLLIElement) || last.dataset.id === undefined) break;
      this.drop(last.dataset.id);
    }
  }

  private drop(id: string): void {
    this.shown.get(id)?.row.remove();
    this.shown.delete(id);
  }

  /** Blob content is untrusted: it only ever goes into textContent and attributes. */
  private row(blob: FeedBlob): HTMLLIElement {
    const row = document.createElement('li');
    row.dataset.id = blob._id;
    const date = readableDate(blob.timestamp);
    const when = document.createElement('time');
    when.className = 'when';
    when.dateTime = date.iso;
    when.textContent = date.text;
    const ua = document.createElement('span');
    ua.className = 'ua';
    ua.textContent = userAgentOf(blob);
    ua.title = ua.textContent;
    const duration = document.createElement('span');
    duration.className = 'duration';
    duration.textContent = formatDuration(durationSecondsOf(blob));
    const view = document.createElement('button');
    view.type = 'button';
    view.className = 'view';
    view.dataset.id = blob._id;
    view.textContent = 'view';
    view.setAttribute('aria-label', `view blob ${blob._id}`);
    row.append(when, ua, duration, view);
    return row;
  }
}
