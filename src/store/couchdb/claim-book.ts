import type { ClaimBook, ClaimDoc } from '../store.js';

/**
 * A claim book in a CouchDB database: `_bulk_docs` refuses a write whose `_rev` is not current
 * with a `conflict`, which is the compare-and-set the drain relies on, even between two service
 * instances on one database.
 */
export class DocumentClaimBook implements ClaimBook {
  constructor(
    private readonly allDocs: (keys: string[]) => Promise<{ rows: ({ key: string; doc?: ClaimDoc | null } | { key: string; error: string })[] }>,
    private readonly bulkDocs: (docs: readonly object[]) => Promise<({ ok?: boolean; error?: string } & object)[]>,
    private readonly describe: string,
  ) {}

  async fetch(ids: readonly string[]): Promise<Map<string, ClaimDoc>> {
    const found = new Map<string, ClaimDoc>();
    if (ids.length === 0) return found;
    for (const row of (await this.allDocs([...ids])).rows) {
      if ('doc' in row && row.doc) found.set(row.key, row.doc);
    }
    return found;
  }

  async write(docs: readonly ClaimDoc[]): Promise<boolean[]> {
    if (docs.length === 0) return [];
    const results = await this.bulkDocs(docs);
    return results.map((result) => {
      if (result.ok) return true;
      if (result.error === 'conflict') return false;
      throw new Error(`${this.describe} refused a claim: ${result.error ?? 'unknown error'}`);
    });
  }

  async remove(docs: readonly { _id: string; _rev: string }[]): Promise<void> {
    if (docs.length > 0) await this.bulkDocs(docs.map((doc) => ({ ...doc, _deleted: true })));
  }
}
