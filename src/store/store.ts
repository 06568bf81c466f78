import type { KpiBlob, StoredBlob } from 'kpiggybank-client/wire';

export type { KpiBlob, StoredBlob };

/** Inclusive timestamp bounds, both optional; `limit` caps the whole range, not a page. */
export interface RangeQuery {
  start?: number | undefined;
  end?: number | undefined;
  limit?: number | undefined;
  descending?: boolean | undefined;
}

/** Where a page ends: ranges are ordered by timestamp, then id. */
export interface RangeCursor {
  timestamp: number;
  id: string;
}

/** `ids[i]` is where the i-th blob lives; `existing` lists ids that were already stored. */
export interface SaveResult {
  ids: string[];
  existing: string[];
}

/**
 * The one seam between HTTP and persistence. Everything above it is backend-agnostic.
 * A method that cannot reach its backend rejects with StoreUnavailableError.
 */
export interface Store {
  readonly backend: string;
  /** Creates what the backend needs (database, design document); safe to call again. */
  open(): Promise<void>;
  /** Resolves only once every blob is durably acknowledged by the backend. */
  save(blobs: readonly KpiBlob[]): Promise<SaveResult>;
  get(id: string): Promise<StoredBlob | undefined>;
  /** Up to `size` blobs of the range strictly after `after` (in the query's direction). */
  page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]>;
  count(): Promise<number>;
  /** Resolves when the backend answers; used by readiness. */
  ping(): Promise<void>;
  /** Flushes pending writes, then releases the backend. */
  close(): Promise<void>;
}

/** The backend cannot be reached now; the request may succeed later (HTTP 503). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** The backend answered, but not as expected (HTTP 500). */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}
