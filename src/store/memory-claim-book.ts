import type { ClaimBook, ClaimDoc } from './store.js';

/** The claim book of an in-process store (memory, dummy): a map, revisions counted. */
export class MemoryClaimBook implements ClaimBook {
  private readonly docs = new Map<string, ClaimDoc & { _rev: string }>();
  private revisions = 0;

  async fetch(ids: readonly string[]): Promise<Map<string, ClaimDoc>> {
    const found = new Map<string, ClaimDoc>();
    for (const id of ids) {
      const doc = this.docs.get(id);
      if (doc) found.set(id, { ...doc });
    }
    return found;
  }

  async write(docs: readonly ClaimDoc[]): Promise<boolean[]> {
    return docs.map((doc) => {
      if (this.docs.get(doc._id)?._rev !== doc._rev) return false;
      this.docs.set(doc._id, { ...doc, _rev: String(++this.revisions) });
      return true;
    });
  }

  async remove(docs: readonly { _id: string; _rev: string }[]): Promise<void> {
    for (const { _id, _rev } of docs) if (this.docs.get(_id)?._rev === _rev) this.docs.delete(_id);
  }
}
