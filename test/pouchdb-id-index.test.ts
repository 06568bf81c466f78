import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import PouchDB from 'pouchdb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdIndex } from '../src/store/id-index.js';
import { PouchDbStore } from '../src/store/pouchdb.js';

const GROUP_COMMIT = { maxItems: 1000, concurrency: 1 };
const timeKey = (timestamp: number, id: string) => `t/${String(timestamp).padStart(16, '0')}/${id}`;

/** The store's id index lives beside PouchDB: these tests write the database behind its back. */
describe('pouchdb store: id index', () => {
  let dir: string;
  let store: PouchDbStore;
  const open = async (logger?: Logger) => {
    store = new PouchDbStore({ dataDir: dir, dbName: 'kpi', groupCommit: GROUP_COMMIT, logger });
    await store.open();
    return store;
  };
  /** The store's database opened by PouchDB alone, as another version of the service would. */
  const raw = () => new PouchDB(path.join(dir, 'kpi'));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-id-index-'));
  });
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('catches up on blobs written to the database but not to the index (a crash between the two)', async () => {
    await (await open()).save([{ _id: 'before', timestamp: 1 }]);
    await store.close();
    const db = raw();
    await db.bulkDocs([{ _id: timeKey(2, 'unindexed'), timestamp: 2, v: 'x' }]);
    await db.close();

    await open();
    expect(await store.get('unindexed')).toEqual({ _id: 'unindexed', timestamp: 2, v: 'x' });
    expect(await store.save([{ _id: 'unindexed', timestamp: 2 }, { _id: 'before', timestamp: 1 }])).toMatchObject({ existing: ['unindexed', 'before'] });
    expect(await store.count()).toBe(2);
    expect(await store.remove(['unindexed', 'before', 'never'])).toBe(2);
    expect(await store.get('unindexed')).toBeUndefined();
    // a removed id can be stored again, at another timestamp
    expect(await store.save([{ _id: 'before', timestamp: 7 }])).toMatchObject({ existing: [] });
    expect(await store.get('before')).toEqual({ _id: 'before', timestamp: 7 });
  });

  it('answers an error when an index write fails, and catches up before the next request', async () => {
    await open();
    // a disk that refuses the index's write once, after PouchDB took the blob: a fault only a mock makes
    const apply = vi.spyOn(IdIndex.prototype, 'apply').mockRejectedValueOnce(new Error('disk full'));
    await expect(store.save([{ _id: 'x', timestamp: 5 }])).rejects.toThrow(/id index .* was not written \(disk full\)/);
    apply.mockRestore();
    // the client's retry (another timestamp, even) finds the blob stored: no second copy
    expect(await store.save([{ _id: 'x', timestamp: 6 }])).toMatchObject({ existing: ['x'] });
    expect(await store.get('x')).toEqual({ _id: 'x', timestamp: 5 });
    expect(await store.count()).toBe(1);
  });

  it('moves an old store\'s pointer documents into the index, keeping every blob', async () => {
    const db = raw();
    const blobs = Array.from({ length: 50 }, (_, i) => ({ _id: `old-${i}`, timestamp: 100 + i, n: i }));
    await db.bulkDocs(blobs.flatMap((blob) => [{ _id: `i/${blob._id}`, t: blob.timestamp }, { ...blob, _id: timeKey(blob.timestamp, blob._id) }]));
    await db.close();

    const log: string[] = [];
    await open(pino({}, { write: (line: string) => log.push(line) }));
    expect(log.map((line) => JSON.parse(line) as { msg: string; blobs?: number })).toContainEqual(
      expect.objectContaining({ msg: 'pouchdb: moved the pointer documents of an older store into the id index', blobs: 50 }),
    );
    expect(await store.count()).toBe(50);
    expect(await store.get('old-7')).toEqual(blobs[7]);
    expect(await store.save([{ _id: 'old-3', timestamp: 103 }, { _id: 'new', timestamp: 1 }])).toMatchObject({ existing: ['old-3'] });
    expect((await store.page({}, undefined, 100)).map((b) => b._id)).toEqual(['new', ...blobs.map((b) => b._id)]);
    const feed = await store.changes('0', { limit: 1000, waitMs: 0 });
    expect(feed.changes.map((c) => c.id).sort()).toEqual(['new', ...blobs.map((b) => b._id)].sort());
    await store.close();

    const after = raw();
    const pointers = await after.allDocs({ startkey: 'i/', endkey: 'i/\uffff' });
    await after.close();
    expect(pointers.rows).toEqual([]);
  });
});
