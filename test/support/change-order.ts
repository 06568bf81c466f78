import type { Backend } from './stores.js';

/**
 * Whether a backend's change feed keeps one global order, the order of the writes: leveldb and
 * memory do. CouchDB 2+ does not: `_changes` interleaves the database's shards, so two blobs of one
 * request may come in either order, and a replay from `since=0` in another order than the live
 * feed brought them. PouchDB Server happens to keep one order, but the couchdb tests claim only
 * what a real CouchDB (single node or cluster) promises: each change exactly once, and the changes
 * of one document in their order (checked with `removalsBeforeWrites`).
 */
export const keepsWriteOrder = (backend: Backend): boolean => backend !== 'couchdb';

/**
 * What a test compares a feed's output with: the items as they came where the backend keeps the
 * write order, else sorted by `key`, so that the comparison still fails for a change lost or
 * repeated, but not for two documents that came in the other order.
 */
export function inClaimedOrder<T>(backend: Backend, items: readonly T[], key: (item: T) => string): T[] {
  if (keepsWriteOrder(backend)) return [...items];
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

interface ChangeLike {
  id: string;
  deleted?: boolean | undefined;
}

/** A change's identity across deliveries: its id, and whether it is the removal. */
export const changeKey = (change: ChangeLike): string => (change.deleted ? `${change.id} removed` : change.id);

/**
 * The removals in `changes` (in arrival order) that came before the write of their own id, which
 * every backend forbids: a document's changes keep their order. Empty when none did.
 */
export function removalsBeforeWrites(changes: readonly ChangeLike[]): string[] {
  const lastWrite = new Map<string, number>();
  changes.forEach((change, i) => {
    if (!change.deleted) lastWrite.set(change.id, i);
  });
  return changes.flatMap((change, i) => (change.deleted && (lastWrite.get(change.id) ?? -1) > i ? [`${change.id} removed at ${i}, written at ${lastWrite.get(change.id)}`] : []));
}
