// The CouchDB store's views: its design document, one way to page through it, and the original's design document.
import type { RangeCursor, RangeQuery, StoredBlob } from '../store.js';

export const DESIGN_NAME = 'kpiggybank';
export const VIEW_NAME = 'by_timestamp';

/**
 * Keyed on [timestamp, _id]: the id makes every key unique, so a page can resume exactly after
 * the last row it returned, with startkey alone. `_count` gives the blob count.
 */
export const designDocument: DesignDocument = {
  _id: `_design/${DESIGN_NAME}`,
  language: 'javascript',
  views: {
    [VIEW_NAME]: {
      map: "function (doc) { if (typeof doc.timestamp === 'number') { emit([doc.timestamp, doc._id], null); } }",
      reduce: '_count',
    },
  },
};

export interface DesignDocument {
  _id: string;
  language: 'javascript';
  views: Record<string, { map: string; reduce?: string }>;
}

/**
 * The original's design document, for tooling that reads the database directly (Persona's
 * KPI_LOAD_GENERATION.md, the original's end-to-end test): `_view/all` keyed by timestamp with
 * each blob as value, `_view/count`. Their map functions are the original's, `if (doc.timestamp)`
 * included (a blob at timestamp 0 is not in `all`); count sums with the built-in `_sum`, which
 * answers as the original's JavaScript `sum(values)` did without running JavaScript to reduce.
 */
export const legacyDesignDocument: DesignDocument = {
  _id: '_design/data',
  language: 'javascript',
  views: {
    all: { map: 'function (doc) { if (doc.timestamp) { emit(doc.timestamp, doc); } }' },
    count: { map: 'function (doc) { emit(doc._id, 1); }', reduce: '_sum' },
  },
};

/** True when a stored design document already holds every view of `want` as it defines it. */
export function designIsCurrent(want: DesignDocument, stored: { views?: Record<string, { map?: string; reduce?: string }> } | undefined): boolean {
  return Object.entries(want.views).every(([name, view]) => stored?.views?.[name]?.map === view.map && stored?.views?.[name]?.reduce === view.reduce);
}

interface ViewParams {
  reduce: false;
  include_docs: true;
  descending: boolean;
  limit: number;
  startkey?: unknown[];
  endkey?: unknown[];
}

/** View query for one page; `{}` collates after every string, so `[end, {}]` includes all ids at `end`. */
export function pageParams(query: RangeQuery, after: RangeCursor | undefined, size: number): ViewParams {
  const lower = query.start === undefined ? undefined : [query.start];
  const upper = query.end === undefined ? undefined : [query.end, {}];
  const descending = query.descending === true;
  const from = after ? [after.timestamp, after.id] : descending ? upper : lower;
  const to = descending ? lower : upper;
  return {
    reduce: false,
    include_docs: true,
    descending,
    // the row at the cursor comes back first; ask for one more and drop it
    limit: after ? size + 1 : size,
    ...(from && { startkey: from }),
    ...(to && { endkey: to }),
  };
}

export interface ViewRow {
  id: string;
  key: [number, string];
  doc?: Record<string, unknown> | null;
}

interface ViewPage {
  blobs: StoredBlob[];
  /** Where the next page starts when the view gave `size` rows: more may follow even if blobs are fewer. */
  next: RangeCursor | undefined;
}

/** Blobs of a page: the cursor's own row dropped, vanished docs (removed after the view was read) skipped, `_rev` removed. */
export function pageBlobs(rows: readonly ViewRow[], after: RangeCursor | undefined, size: number): ViewPage {
  const fresh = rows.filter((row) => !(after && row.id === after.id)).slice(0, size);
  const blobs = fresh.flatMap((row) => (row.doc ? [withoutRev(row.doc) as StoredBlob] : []));
  const last = fresh[fresh.length - 1];
  return { blobs, next: fresh.length === size && last ? { timestamp: last.key[0], id: last.id } : undefined };
}

export function withoutRev(doc: Record<string, unknown>): Record<string, unknown> {
  const { _rev, ...blob } = doc;
  return blob;
}
