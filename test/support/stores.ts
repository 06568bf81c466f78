import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { dropCouchDb as dropDatabase } from '../../harness/couchdb.js';
import { loadConfig, type CouchConnection } from '../../src/config.js';
import { CouchDbStore } from '../../src/store/couchdb/couchdb-store.js';
import { LevelDbStore } from '../../src/store/leveldb/leveldb-store.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { StoreBackend } from '../../src/store/backends.js';
import type { Change, ChangesBatch, ClaimBook, Store } from '../../src/store/store.js';

/** Every backend that keeps blobs: the tests run on each. */
export { STORE_BACKENDS as BACKENDS } from '../../src/store/backends.js';
export type Backend = StoreBackend;

export interface TestStore {
  store: Store;
  /** Closes the store and removes what it created. */
  cleanup(): Promise<void>;
}

const groupCommit = { maxItems: 500, concurrency: 4 };

export function couchConnection(url = inject('couchUrl')): CouchConnection {
  return loadConfig({ COUCHDB_URL: url }).couch;
}

export function uniqueDbName(): string {
  return `kpiggybank_test_${randomBytes(6).toString('hex')}`;
}

/** Drops a test's database and the `<name>-claims` one its CouchDB store creates beside it (left behind before, one a test). */
export async function dropCouchDb(server: Parameters<typeof dropDatabase>[0], dbName: string): Promise<void> {
  await Promise.all([dbName, `${dbName}-claims`].map((db) => dropDatabase(server, db)));
}

/** An embedded store in a DATA_DIR of its own (nested: the store creates what is missing), removed afterwards. */
async function inTempDir(make: (dataDir: string) => Store): Promise<TestStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-test-'));
  const store = make(path.join(dir, 'nested'));
  await store.open();
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function openTestStore(backend: Backend): Promise<TestStore> {
  switch (backend) {
    case 'memory': {
      const store = new MemoryStore();
      await store.open();
      return { store, cleanup: () => store.close() };
    }
    case 'leveldb':
      return inTempDir((dataDir) => new LevelDbStore({ dataDir, dbName: 'bid_kpi', groupCommit }));
    case 'couchdb': {
      const connection = couchConnection();
      const dbName = uniqueDbName();
      // a cluster's read-your-writes needs every copy written first: COUCHDB_WRITE_QUORUM=3 (docs/development.md)
      const { couchWriteQuorum } = loadConfig({ COUCHDB_WRITE_QUORUM: process.env.COUCHDB_WRITE_QUORUM });
      const store = new CouchDbStore({ connection, dbName, groupCommit, timeoutMs: 30_000, writeQuorum: couchWriteQuorum });
      await store.open();
      return {
        store,
        async cleanup() {
          await store.close();
          await dropCouchDb(connection, dbName);
        },
      };
    }
  }
}

/** Every change after `since`, page by page. */
export async function allChanges(store: Store, since: string, limit: number): Promise<ChangesBatch> {
  const changes: Change[] = [];
  for (;;) {
    const batch = await store.changes(since, { limit, waitMs: 0 });
    changes.push(...batch.changes);
    since = batch.lastSeq;
    if (batch.complete) return { changes, lastSeq: since, complete: true };
  }
}

/** The revision a claim book holds for `id`, if any. */
export const revOf = async (book: ClaimBook, id: string) => (await book.fetch([id])).get(id)?._rev;
