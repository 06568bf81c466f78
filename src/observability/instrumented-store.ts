import type { DurationSeries } from './duration-histogram.js';
import type { Metrics } from './metrics.js';
import type { ChangesBatch, ClaimBook, ChangesOptions, KpiBlob, RangeCursor, RangeQuery, RangeRow, SaveResult, Store, StoredBlob, StoreHealth } from '../store/store.js';

/** The same store, timing each operation into `kpiggybank_store_operation_duration_seconds`. */
export class InstrumentedStore implements Store {
  readonly backend: string;
  readonly claims: ClaimBook;

  /** Present exactly when the inner store has it, timed as a page. */
  readonly pageJson?: (query: RangeQuery, after: RangeCursor | undefined, size: number) => Promise<RangeRow[]>;

  constructor(
    private readonly inner: Store,
    private readonly metrics: Metrics,
  ) {
    this.backend = inner.backend;
    this.claims = inner.claims;
    if (inner.pageJson) this.pageJson = (query, after, size) => this.time('page', () => inner.pageJson!(query, after, size));
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  save(blobs: readonly KpiBlob[]): Promise<SaveResult> {
    return this.time('save', () => this.inner.save(blobs));
  }

  get(id: string): Promise<StoredBlob | undefined> {
    return this.time('get', () => this.inner.get(id));
  }

  page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    return this.time('page', () => this.inner.page(query, after, size));
  }

  count(): Promise<number> {
    return this.time('count', () => this.inner.count());
  }

  remove(ids: readonly string[]): Promise<number> {
    return this.time('remove', () => this.inner.remove(ids));
  }

  /** Not timed: a change read waits for changes by design, so its duration says nothing. */
  changes(since: string, options: ChangesOptions): Promise<ChangesBatch> {
    return this.inner.changes(since, options);
  }

  currentSeq(): Promise<string> {
    return this.inner.currentSeq();
  }

  ping(): Promise<void> {
    return this.time('ping', () => this.inner.ping());
  }

  health(): StoreHealth {
    return this.inner.health?.() ?? { writable: true };
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async time<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await run();
      this.series(operation, 'ok').observe(seconds());
      return result;
    } catch (error) {
      this.series(operation, 'error').observe(seconds());
      throw error;
    }
  }

  /** Each (operation, outcome) series is looked up once: a save is timed on every POST. */
  private readonly seriesByKey = new Map<string, DurationSeries>();

  private series(operation: string, outcome: 'ok' | 'error'): DurationSeries {
    const key = `${operation} ${outcome}`;
    let series = this.seriesByKey.get(key);
    if (!series) {
      series = this.metrics.storeDuration.labels({ backend: this.backend, operation, outcome });
      this.seriesByKey.set(key, series);
    }
    return series;
  }
}
