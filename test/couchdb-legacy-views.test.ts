import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CouchDbStore } from '../src/store/couchdb/couchdb-store.js';
import { couchHeaders } from '../harness/couchdb.js';
import { couchConnection, dropCouchDb, uniqueDbName } from './support/stores.js';

// The original kept its blobs in CouchDB with a design document `_design/data`: operator tooling
// (Persona's docs/KPI_LOAD_GENERATION.md, the original's end-to-end test) reads its views directly.

const connection = couchConnection();
const headers = couchHeaders(connection);
const couch = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${connection.url}/${path}`, { headers });
  return { status: res.status, body: (await res.json()) as T };
};

interface ViewAnswer<V> {
  rows: { key: unknown; id?: string; value: V }[];
}

describe("the original's CouchDB views (COUCHDB_LEGACY_VIEWS)", () => {
  const dbName = uniqueDbName();
  const plainName = uniqueDbName();
  const store = () => new CouchDbStore({ connection, dbName, groupCommit: { maxItems: 500, concurrency: 2 }, timeoutMs: 30_000, legacyViews: true });
  let first: CouchDbStore;
  beforeAll(async () => {
    first = store();
    await first.open();
  });
  afterAll(async () => {
    await first.close();
    await dropCouchDb(connection, dbName);
    await dropCouchDb(connection, plainName);
  });

  it('answers _design/data/_view/all by timestamp, each blob as value, and _view/count, as the original did', async () => {
    const blobs = Array.from({ length: 30 }, (_, i) => ({ timestamp: 1_380_000_000_000 + i, lang: 'en-US', n: i }));
    const { ids } = await first.save([...blobs, { timestamp: 0, at: 'zero' }]);
    const all = await couch<ViewAnswer<Record<string, unknown>>>(`${dbName}/_design/data/_view/all?startkey=${1_380_000_000_010}&endkey=${1_380_000_000_019}`);
    expect(all.status).toBe(200);
    expect(all.body.rows.map((row) => row.key)).toEqual(Array.from({ length: 10 }, (_, i) => 1_380_000_000_010 + i));
    for (const row of all.body.rows) {
      const n = (row.value as { n: number }).n;
      expect(row.id).toBe(ids[n]);
      expect(row.value).toMatchObject({ _id: ids[n], ...blobs[n] });
    }
    // the original's map skipped a falsy timestamp; its count counted every document
    expect((await couch<ViewAnswer<unknown>>(`${dbName}/_design/data/_view/all`)).body.rows).toHaveLength(30);
    const count = await couch<ViewAnswer<number>>(`${dbName}/_design/data/_view/count`);
    expect(count.body.rows).toEqual([{ key: null, value: 31 }]);
    expect(await first.count()).toBe(31);
  });

  it('keeps the design document as it is on the next start, and adds none without the setting', async () => {
    const before = await couch<{ _rev: string }>(`${dbName}/_design/data`);
    const again = store();
    await again.open();
    expect((await couch<{ _rev: string }>(`${dbName}/_design/data`)).body._rev).toBe(before.body._rev);
    await again.close();

    const plain = new CouchDbStore({ connection, dbName: plainName, groupCommit: { maxItems: 500, concurrency: 2 }, timeoutMs: 30_000 });
    await plain.open();
    expect((await couch(`${plainName}/_design/data`)).status).toBe(404);
    expect((await couch(`${plainName}/_design/kpiggybank`)).status).toBe(200);
    await plain.close();
  });
});
