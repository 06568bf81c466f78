import type { KpiBlob, StoredBlob, RangeQuery as WireRangeQuery } from 'kpiggybank-client/wire';

export type { KpiBlob, StoredBlob };

/**
 * Inclusive timestamp bounds, both optional; `limit` caps the whole range, not a page: the wire's
 * range query without its `shape`, which is the HTTP layer's to render.
 */
export type RangeQuery = Omit<WireRangeQuery, 'shape'>;

/** Where a page ends: ranges are ordered by timestamp, then id. */
export interface RangeCursor {
  timestamp: number;
  id: string;
}

/**
 * One blob of a range as a backend that keeps blobs as JSON text holds it: `json` is the blob's
 * JSON exactly as stored (what JSON.stringify gave for it), `timestamp` and `id` its position.
 */
export interface RangeRow {
  timestamp: number;
  id: string;
  json: string;
}

/** `ids[i]` is where the i-th blob lives; `existing` lists ids that were already stored. */
export interface SaveResult {
  ids: string[];
  existing: string[];
}

/**
 * One change of the store, in the store's order. `seq` is opaque (CouchDB 2+: `"12-g1AAAA…"`):
 * only the store that made it may interpret it. `rev` tells two changes of one id apart.
 */
export interface Change {
  seq: string;
  id: string;
  rev: string;
  deleted: boolean;
  /** The blob, for a change that is not a deletion. */
  doc?: StoredBlob | undefined;
  /**
   * Optional, from a backend that keeps each blob as JSON text (leveldb): `doc` as that text, what
   * JSON.stringify gave for it, so that the change feed writes it out as it is instead of parsing
   * and encoding it again (that was a quarter of a replay's CPU in the service).
   */
  json?: string | undefined;
}

/**
 * `complete`: nothing after `since` existed when the read was asked for, beyond what it returns
 * (a backend that cannot prove it, e.g. after a short page, answers false).
 */
export interface ChangesBatch {
  changes: Change[];
  /** Where the next read starts: `since` for the next call. */
  lastSeq: string;
  complete: boolean;
}

export interface ChangesOptions {
  /** Most changes read at once (a backend may count its own bookkeeping documents too). */
  limit: number;
  /** When there is no change after `since`, wait this long for one; 0 answers at once. */
  waitMs: number;
  /**
   * false: the caller reads no `doc` (it only follows the sequence), so a backend may leave the
   * blobs out, and may then list writes whose blob has been removed since. Absent: true.
   */
  docs?: boolean | undefined;
}

/** A document of a ClaimBook; `_rev` is whatever the backend uses to detect a concurrent change. */
export interface ClaimDoc {
  _id: string;
  _rev?: string | undefined;
  [field: string]: unknown;
}

/**
 * Small documents beside the blobs, shared by every process that uses the same store, written
 * compare-and-set: the drain's claims live here, so that two drains never take the same blob
 * even from two service instances on one CouchDB.
 */
export interface ClaimBook {
  /** The documents stored under these ids; missing ones are absent from the map. */
  fetch(ids: readonly string[]): Promise<Map<string, ClaimDoc>>;
  /** Writes each document only if its `_rev` is the stored one (no `_rev`: only if absent); per document, whether it was written. */
  write(docs: readonly ClaimDoc[]): Promise<boolean[]>;
  /** Deletes documents at the given revisions; ones changed meanwhile are left. */
  remove(docs: readonly { _id: string; _rev: string }[]): Promise<void>;
}

/** Whether writes can succeed now, for readiness: `reason` says why not (no secret, no path). */
export interface StoreHealth {
  writable: boolean;
  reason?: string | undefined;
}

/**
 * The one seam between HTTP and persistence. Everything above it is backend-agnostic.
 * A method that cannot reach its backend rejects with StoreUnavailableError.
 */
export interface Store {
  readonly backend: string;
  readonly claims: ClaimBook;
  /** Creates what the backend needs (database, design document); safe to call again. */
  open(): Promise<void>;
  /** Resolves only once every blob is durably acknowledged by the backend. */
  save(blobs: readonly KpiBlob[]): Promise<SaveResult>;
  get(id: string): Promise<StoredBlob | undefined>;
  /** Up to `size` blobs of the range strictly after `after` (in the query's direction). */
  page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]>;
  /**
   * Optional, for a backend that stores each blob as JSON text (leveldb): the same page as `page`,
   * each blob as that text, so that a range read writes it out as it is instead of parsing and
   * encoding it again. Absent: callers use `page`.
   */
  pageJson?(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<RangeRow[]>;
  count(): Promise<number>;
  /** Removes blobs by id; ids not stored are skipped. Resolves with how many were removed. */
  remove(ids: readonly string[]): Promise<number>;
  /**
   * Changes after `since` (a `seq` this store gave, or "0" for all); rejects `since` it cannot read
   * with InvalidSeqError. What a removal leaves depends on `keepsRemovedWrites`.
   */
  changes(since: string, options: ChangesOptions): Promise<ChangesBatch>;
  /**
   * true (leveldb, memory): the change feed is history within the store's retention: from `since`,
   * every write after it, also of blobs removed since (at its own seq, with its blob), then their
   * removals; a `since` older than the retention is refused (InvalidSeqError), never answered with
   * less. Absent (CouchDB): a document's newest change only, so a blob removed since is just its
   * removal, without a body.
   */
  readonly keepsRemovedWrites?: boolean;
  /** The `seq` of the newest change: where a subscriber to "now" starts. */
  currentSeq(): Promise<string>;
  /** Resolves when the backend answers; used by readiness. */
  ping(): Promise<void>;
  /** Whether writes can succeed now, as far as the store knows without asking its backend; absent: it cannot tell. */
  health?(): StoreHealth;
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

/** A `since` the store cannot read (HTTP 400, WebSocket close 4400). */
export class InvalidSeqError extends Error {
  override readonly name = 'InvalidSeqError';
}
