import type { RangeCursor, RangeQuery, Store, StoredBlob } from './store.js';

export const DEFAULT_PAGE_SIZE = 1000;

/**
 * Walks a range page by page so that a million blobs are never in memory at once.
 * Pages are fetched one at a time, as the consumer asks for them.
 */
export async function* rangePages(store: Store, query: RangeQuery, pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<StoredBlob[]> {
  if (query.start !== undefined && query.end !== undefined && query.start > query.end) return;
  let remaining = query.limit ?? Infinity;
  let after: RangeCursor | undefined;
  while (remaining > 0) {
    const size = Math.min(pageSize, remaining);
    const page = await store.page(query, after, size);
    if (page.length > 0) yield page;
    remaining -= page.length;
    const tail = page[page.length - 1];
    if (page.length < size || tail === undefined) return;
    after = { timestamp: tail.timestamp, id: tail._id };
  }
}

/** The blob with the greatest timestamp (ties: greatest id). */
export async function lastBlob(store: Store): Promise<StoredBlob | undefined> {
  const [last] = await store.page({ descending: true }, undefined, 1);
  return last;
}
