import { FeedFilter } from './feed-filter.js';
import { feedRow } from './feed-row.js';
import type { FeedBlob } from './messages.js';

/**
 * Least time between two updates of the list. Nobody reads rows that change faster than this, and
 * at 1,000 blobs/s updating every frame kept the page's main thread busy most of the time.
 */
const MIN_UPDATE_MS = 100;
/** Rows built beyond the visible ones, above and below, so that a scroll shows no gap. */
const OVERSCAN = 4;
/** Until a row was measured (rows have a fixed height in the stylesheet). */
const DEFAULT_ROW_PX = 36;

export type Hold = 'button' | 'pointer' | 'focus';

/**
 * The newest blobs, newest first, at most `limit` of them, in a scrolling box.
 *
 * Arrivals and removals are queued and applied together in one animation frame, at most every
 * MIN_UPDATE_MS, so 1,000 blobs a second cost ten updates a second, and of a burst only the
 * blobs that would stay are kept. What is queued is bounded too (at most `limit` arrivals), so a
 * held list or a hidden tab does not grow.
 *
 * Only the rows in view (and a few around) are in the DOM, placed by the list's padding and
 * height: with 1,000 rows on the DOM, every update re-laid them all and the page fell to a few
 * frames a second. Rows already in the DOM stay where they are across updates (new ones are
 * inserted around them), so focus is never lost to an update; `aria-setsize` and
 * `aria-posinset` tell assistive technology the whole list's size.
 *
 * A filter shows only the held blobs whose fields match it; it changes what is drawn, not what is held.
 */
export class FeedList {
  /** What the list holds, newest first. */
  private blobs: FeedBlob[] = [];
  /** `blobs` that pass the filter: what is drawn. */
  private shown: FeedBlob[] = [];
  private filter = new FeedFilter('');
  /** Older blobs (the page's first read), newest first, to go below the ones held. */
  private older: FeedBlob[] = [];
  private readonly byId = new Map<string, FeedBlob>();
  /** The rows in the DOM, by id. */
  private readonly rows = new Map<string, HTMLLIElement>();
  private readonly arriving = new Map<string, FeedBlob>();
  private readonly leaving = new Set<string>();
  private readonly holds = new Set<Hold>();
  private scheduled = false;
  private lastUpdate = -Infinity;
  private rowPx = 0;
  private drawing: number | undefined;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly list: HTMLOListElement,
    private limit: number,
    /** Told after every change of what is drawn: how many rows pass the filter, of how many held. */
    private readonly changed: (shown: number, held: number) => void = () => {},
  ) {
    scroller.addEventListener('scroll', () => this.redraw(), { passive: true });
    // rows are taller on narrow screens (home.css): measure again
    addEventListener('resize', () => {
      this.rowPx = 0;
      this.redraw();
    });
  }

  add(blob: FeedBlob): void {
    if (this.byId.has(blob._id)) return;
    this.arriving.set(blob._id, blob);
    // keep only the newest `limit` arrivals: older ones would be pushed out before being seen
    if (this.arriving.size > this.limit) this.arriving.delete(this.arriving.keys().next().value!);
    this.schedule();
  }

  /**
   * Blobs older than every one the feed brought (the newest of the store, read when the page
   * opened), newest first: they go below the rows held, skipping any already there.
   */
  addOlder(blobs: readonly FeedBlob[]): void {
    this.older.push(...blobs);
    this.schedule();
  }

  /** Shows only the blobs that match (now, even while held: the user asked for it). */
  setFilter(query: string): void {
    this.filter = new FeedFilter(query);
    this.applyFilter();
    this.redraw();
  }

  get filtered(): boolean {
    return this.filter.active;
  }

  remove(id: string): void {
    if (this.arriving.delete(id) || !this.byId.has(id)) return;
    this.leaving.add(id);
    this.schedule();
  }

  blob(id: string): FeedBlob | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.blobs.length;
  }

  setLimit(limit: number): void {
    this.limit = limit;
    this.schedule();
  }

  /**
   * Held (the Pause button, the pointer over the list, keyboard focus in it), the list takes in
   * nothing new: a row must not move or vanish before its "view" is clicked. Scrolling still works.
   */
  hold(reason: Hold, on: boolean): void {
    if (on) this.holds.add(reason);
    else this.holds.delete(reason);
    this.scroller.toggleAttribute('data-held', this.held);
    if (!this.held) this.schedule();
  }

  private get held(): boolean {
    return this.holds.size > 0;
  }

  private schedule(): void {
    if (this.scheduled || this.held) return;
    this.scheduled = true;
    const wait = Math.max(0, this.lastUpdate + MIN_UPDATE_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => this.update()), wait);
  }

  private update(): void {
    this.scheduled = false;
    if (this.held) return; // held after this update was scheduled
    this.lastUpdate = performance.now();
    const fresh = [...this.arriving.values()].slice(-this.limit).reverse();
    this.arriving.clear();
    const kept = this.leaving.size === 0 ? this.blobs : this.blobs.filter((b) => !this.leaving.has(b._id));
    for (const id of this.leaving) this.byId.delete(id);
    this.leaving.clear();
    this.blobs = fresh.concat(kept);
    for (const blob of fresh) this.byId.set(blob._id, blob);
    for (const blob of this.older) {
      if (this.byId.has(blob._id)) continue;
      this.blobs.push(blob);
      this.byId.set(blob._id, blob);
    }
    this.older = [];
    for (const gone of this.blobs.splice(this.limit)) this.byId.delete(gone._id);
    this.applyFilter();
    this.draw();
  }

  private applyFilter(): void {
    this.shown = this.filter.active ? this.blobs.filter((b) => this.filter.matches(b)) : this.blobs;
  }

  private redraw(): void {
    this.drawing ??= requestAnimationFrame(() => {
      this.drawing = undefined;
      this.draw();
    });
  }

  /** Puts the rows in view into the DOM, leaving the ones already there in place. */
  private draw(): void {
    const rowPx = this.rowPx || DEFAULT_ROW_PX;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / rowPx) - OVERSCAN);
    const count = Math.ceil(this.scroller.clientHeight / rowPx) + 2 * OVERSCAN;
    const visible = this.shown.slice(first, first + count);
    const wanted = new Set(visible.map((b) => b._id));
    for (const [id, row] of this.rows) {
      if (wanted.has(id)) continue;
      row.remove();
      this.rows.delete(id);
    }
    let next = this.list.firstElementChild;
    visible.forEach((blob, i) => {
      let row = this.rows.get(blob._id);
      if (row === undefined) {
        row = feedRow(blob);
        this.rows.set(blob._id, row);
      }
      row.setAttribute('aria-posinset', String(first + i + 1));
      row.setAttribute('aria-setsize', String(this.shown.length));
      if (row === next) next = row.nextElementSibling;
      else this.list.insertBefore(row, next);
    });
    this.list.style.paddingTop = `${first * rowPx}px`;
    this.list.style.height = `${this.shown.length * rowPx}px`;
    if (this.rowPx === 0 && this.list.firstElementChild) {
      this.rowPx = this.list.firstElementChild.getBoundingClientRect().height || 0;
      if (this.rowPx !== 0 && this.rowPx !== rowPx) this.draw();
    }
    this.changed(this.shown.length, this.blobs.length);
  }
}
