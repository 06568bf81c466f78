import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PouchDbStore } from '../src/store/pouchdb.js';
import { RecentBlobs } from '../src/store/recent-blobs.js';
import type { StoredBlob } from '../src/store/store.js';

const blob = (n: number): StoredBlob => ({ _id: `b${n}`, timestamp: n });

describe('RecentBlobs', () => {
  it('holds the newest half to all of its capacity, forgets removed ones, and answers only when it holds every key', () => {
    const recent = new RecentBlobs(4);
    for (const n of [1, 2, 3, 4, 5]) recent.written(`k${n}`, blob(n));
    expect(recent.all(['k3', 'k4', 'k5'])).toEqual([blob(3), blob(4), blob(5)]);
    expect(recent.all(['k2', 'k3'])).toBeUndefined(); // 1 and 2 went when 3 and 4 filled a generation
    recent.removed('k4');
    expect(recent.all(['k3', 'k4'])).toBeUndefined();
    expect(recent.all(['k5', 'k3'])).toEqual([blob(5), blob(3)]);
    expect(recent.all([])).toEqual([]);
    // a key written again (removed, then stored anew) answers its newest blob
    recent.written('k3', blob(33));
    expect(recent.all(['k3'])).toEqual([blob(33)]);
  });
});

describe('pouchdb store: ranges of fresh blobs', () => {
  let dir: string;
  let store: PouchDbStore;
  const open = async () => {
    store = new PouchDbStore({ dataDir: dir, dbName: 'kpi', groupCommit: { maxItems: 1000, concurrency: 1 } });
    await store.open();
  };
  const everything = () => store.page({}, undefined, 1000);
  /** The store's PouchDB handle: PouchDB gives each handle its own methods, so spies go on it. */
  const database = () => (store as unknown as { db: PouchDB.Database }).db;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-recent-'));
    await open();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads them from memory, the same blobs the database reads after a restart', async () => {
    await store.save(Array.from({ length: 600 }, (_, n) => ({ _id: `b${String(n).padStart(3, '0')}`, timestamp: 1_000 + (n % 50), n })));
    await store.remove(['b007', 'b300', 'b599']);
    const withDocs = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.filter(([options]) => (options as { include_docs?: boolean }).include_docs === true).length;

    const before = vi.spyOn(database(), 'allDocs');
    const fresh = await everything();
    expect(withDocs(before)).toBe(0); // keys from the database, blobs from memory
    expect(fresh).toHaveLength(597);
    expect(fresh.map((b) => b._id)).not.toContain('b300');

    await store.close();
    await open();
    const after = vi.spyOn(database(), 'allDocs');
    const fromDisk = await everything();
    expect(withDocs(after)).toBeGreaterThan(0);
    expect(fromDisk).toEqual(fresh);
  });

  it('does not answer from memory a blob removed after its key was read, as the database would not', async () => {
    await store.save(Array.from({ length: 300 }, (_, n) => ({ _id: `c${n}`, timestamp: 2_000 + n })));
    // the removal lands between the read of the range's keys and the read of its blobs
    const db = database();
    const allDocs = db.allDocs.bind(db) as (options: object) => Promise<unknown>;
    vi.spyOn(db, 'allDocs').mockImplementationOnce((async (options: object) => {
      const keys = await allDocs(options);
      await store.remove(['c10']);
      return keys;
    }) as never);
    const blobs = await everything();
    expect(blobs.map((b) => b._id)).not.toContain('c10');
    expect(blobs).toHaveLength(299);
  });
});
