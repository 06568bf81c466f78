import type { RangeCursor, RangeQuery, RangeRow, Store, StoredBlob } from './store.js';

const DEFAULT_PAGE_SIZE = 1000;

type Settled<T> = { page: T[] } | { error: unknown };

/**
 * Walks a range page by page so that a million items are never in memory at once. With
 * `readAhead`, the next page is asked for as soon as a page arrives, so the store reads it while
 * the consumer writes this one out (two pages held at most; dropped unread if the consumer stops);
 * without, each page is asked for when the consumer wants it.
 */
async function* pagesOf<T>(
  fetch: (after: RangeCursor | undefined, size: number) => Promise<T[]>,
  cursorOf: (item: T) => RangeCursor,
  query: RangeQuery,
  pageSize: number,
  readAhead: boolean,
): AsyncGenerator<T[]> {
  if (query.start !== undefined && query.end !== undefined && query.start > query.end) return;
  // settled at once: a read ahead failing while the consumer is busy is no unhandled rejection
  const ask = (after: RangeCursor | undefined, size: number): Promise<Settled<T>> =>
    fetch(after, size).then(
      (page) => ({ page }),
      (error: unknown) => ({ error }),
    );
  let remaining = query.limit ?? Infinity;
  let after: RangeCursor | undefined;
  let ahead: Promise<Settled<T>> | undefined;
  while (remaining > 0) {
    const size = Math.min(pageSize, remaining);
    const settled = await (ahead ?? ask(after, size));
    ahead = undefined;
    if ('error' in settled) throw settled.error;
    const { page } = settled;
    remaining -= page.length;
    const tail = page[page.length - 1];
    const more = page.length === size && tail !== undefined && remaining > 0;
    if (more) {
      after = cursorOf(tail);
      if (readAhead) ahead = ask(after, Math.min(pageSize, remaining));
    }
    if (page.length > 0) yield page;
    if (!more) return;
  }
}

/** A blob as a range row: its JSON encoded here. */
export const rowOf = (blob: StoredBlob): RangeRow => ({ timestamp: blob.timestamp, id: blob._id, json: JSON.stringify(blob) });

/** A range's blobs, page by page, each asked for when the consumer wants it. */
export function rangePages(store: Store, query: RangeQuery, pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<StoredBlob[]> {
  return pagesOf(
    (after, size) => store.page(query, after, size),
    (blob) => ({ timestamp: blob.timestamp, id: blob._id }),
    query,
    pageSize,
    false,
  );
}

/**
 * A range's blobs as JSON text, page by page, reading one page ahead: a store's own text where
 * it has `pageJson`, else each blob of `page` encoded.
 */
export function rangeRowPages(store: Store, query: RangeQuery, pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<RangeRow[]> {
  const fetch = store.pageJson
    ? (after: RangeCursor | undefined, size: number) => store.pageJson!(query, after, size)
    : async (after: RangeCursor | undefined, size: number) => (await store.page(query, after, size)).map(rowOf);
  return pagesOf(fetch, (row) => ({ timestamp: row.timestamp, id: row.id }), query, pageSize, true);
}

/** The blob with the greatest timestamp (ties: greatest id). */
export async function lastBlob(store: Store): Promise<StoredBlob | undefined> {
  const [last] = await store.page({ descending: true }, undefined, 1);
  return last;
}
