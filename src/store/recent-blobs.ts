import type { StoredBlob } from './store.js';

/**
 * The newest blobs a store wrote, by their key in the database, for reads of fresh ranges (a
 * load test's read-back, the home page's last hour). Blobs are never changed once written, only
 * removed, so an entry is right until its removal, which the store reports here.
 *
 * It holds the newest `capacity / 2` to `capacity` blobs in two generations: dropping the oldest
 * entry of one Map at a time cost ~12 µs a write (each `keys().next()` walks the deleted slots).
 */
export class RecentBlobs {
  private newer = new Map<string, StoredBlob>();
  private older = new Map<string, StoredBlob>();

  constructor(private readonly capacity: number) {}

  written(key: string, blob: StoredBlob): void {
    this.newer.set(key, blob);
    if (this.newer.size >= this.capacity / 2) {
      this.older = this.newer;
      this.newer = new Map();
    }
  }

  removed(key: string): void {
    this.newer.delete(key);
    this.older.delete(key);
  }

  /** The blobs of all these keys, in their order; undefined unless every one is held. */
  all(keys: readonly string[]): StoredBlob[] | undefined {
    const blobs: StoredBlob[] = [];
    for (const key of keys) {
      const blob = this.newer.get(key) ?? this.older.get(key);
      if (blob === undefined) return undefined;
      blobs.push(blob);
    }
    return blobs;
  }
}
