import type { StoredBlob } from './store.js';

/**
 * The newest blobs a store wrote, by their key in the database, for reads of fresh ranges (a
 * load test's read-back, the home page's last hour). Blobs are never changed once written, only
 * removed, so an entry is right until its removal, which the store reports here.
 */
export class RecentBlobs {
  private readonly byKey = new Map<string, StoredBlob>();

  constructor(private readonly capacity: number) {}

  written(key: string, blob: StoredBlob): void {
    this.byKey.set(key, blob);
    if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
  }

  removed(key: string): void {
    this.byKey.delete(key);
  }

  /** The blobs of all these keys, in their order; undefined unless every one is held. */
  all(keys: readonly string[]): StoredBlob[] | undefined {
    const blobs: StoredBlob[] = [];
    for (const key of keys) {
      const blob = this.byKey.get(key);
      if (blob === undefined) return undefined;
      blobs.push(blob);
    }
    return blobs;
  }
}
