import path from 'node:path';
import PouchDB from 'pouchdb';
import { withIds } from '../../src/store/ids.js';
import type { KpiBlob, StoredBlob } from '../../src/store/store.js';

/*
 * A store as the former pouchdb backend wrote it (until 6df8684), for the migration's tests: one
 * PouchDB database at DATA_DIR/<DB_NAME>, a document per blob under `t/<timestamp, 16 digits>/<id>`
 * holding the blob's fields without `_id`; a removed blob is a deleted document. Written here with
 * PouchDB itself (the package the backend used), so the files are the ones an upgrade meets.
 */

const docId = (blob: StoredBlob) => `t/${String(blob.timestamp).padStart(16, '0')}/${blob._id}`;
const byTimeThenId = (a: StoredBlob, b: StoredBlob) => a.timestamp - b.timestamp || Buffer.from(a._id).compare(Buffer.from(b._id));

export interface PouchDbLayout {
  /** The blobs stored now, in the leveldb store's range order (timestamp, then id as UTF-8 bytes). */
  stored(): StoredBlob[];
  /** Removes blobs, as the backend's removal did. */
  remove(ids: readonly string[]): Promise<void>;
  /** How many live documents PouchDB holds. */
  documents(): Promise<number>;
  close(): Promise<void>;
}

/** Writes `blobs` blobs (`blobOf(i)`, ids generated where not chosen) into a pouchdb store in `dataDir`, 500 a write. */
export async function writePouchDbLayout(dataDir: string, dbName: string, blobs: number, blobOf: (i: number) => KpiBlob): Promise<PouchDbLayout & { ids: string[] }> {
  const db = new PouchDB(path.join(dataDir, dbName));
  const live = new Map<string, { blob: StoredBlob; rev: string }>();
  for (let from = 0; from < blobs; from += 500) {
    const batch = withIds(Array.from({ length: Math.min(500, blobs - from) }, (_, k) => blobOf(from + k)));
    const results = await db.bulkDocs(batch.map(({ _id, ...fields }) => ({ ...fields, _id: docId({ ...fields, _id } as StoredBlob) })));
    results.forEach((result, i) => {
      if (!('ok' in result)) throw new Error(`PouchDB refused ${batch[i]!._id}: ${JSON.stringify(result)}`);
      live.set(batch[i]!._id, { blob: batch[i]! as StoredBlob, rev: result.rev });
    });
  }
  return {
    ids: [...live.keys()],
    stored: () => [...live.values()].map((entry) => entry.blob).sort(byTimeThenId),
    async remove(ids) {
      await db.bulkDocs(ids.map((id) => ({ _id: docId(live.get(id)!.blob), _rev: live.get(id)!.rev, _deleted: true })));
      for (const id of ids) live.delete(id);
    },
    documents: async () => (await db.info()).doc_count,
    close: () => db.close(),
  };
}

/** Opens the pouchdb store in `dataDir` and holds it (and its LevelDB lock, as the former service did) until closed. */
export async function openPouchDb(dataDir: string, dbName: string): Promise<Pick<PouchDbLayout, 'documents' | 'close'>> {
  const db = new PouchDB(path.join(dataDir, dbName));
  await db.info();
  return { documents: async () => (await db.info()).doc_count, close: () => db.close() };
}
