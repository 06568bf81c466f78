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

  /** A slow disk under the index: each index write settles `ms` later (a fault only a mock makes), failing with `error` if given. */
  const realApply = IdIndex.prototype.apply;
  const slowIndex =
    (ms: number, error?: Error) =>
    async function (this: IdIndex, ...args: Parameters<IdIndex['apply']>) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (error) throw error;
      return realApply.apply(this, args);
    };

  it('answers a save whose index write fails (the blob is stored), and catches up before the index is read', async () => {
    const lines: { msg: string }[] = [];
    await open(pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) }));
    const apply = vi.spyOn(IdIndex.prototype, 'apply').mockImplementationOnce(slowIndex(50, new Error('disk full')));
    // two writes; the second's index write (a generated id: nothing waits for the index) comes after the failed one and must not skip past it
    const [first, second] = await Promise.all([store.save([{ _id: 'x', timestamp: 5 }]), store.save([{ timestamp: 6 }])]);
    const y = second.ids[0]!;
    expect([first.existing, second.existing]).toEqual([[], []]);
    apply.mockRestore();
    // a client's retry (another timestamp, even) finds each blob stored: no second copy
    expect(await store.save([{ _id: 'x', timestamp: 7 }, { _id: y, timestamp: 8 }])).toMatchObject({ existing: ['x', y] });
    expect(await store.get('x')).toEqual({ _id: 'x', timestamp: 5 });
    expect(await store.get(y)).toEqual({ _id: y, timestamp: 6 });
    expect(await store.count()).toBe(2);
    expect(lines.map((line) => line.msg)).toEqual([expect.stringMatching(/id index .* was not written; it catches up/)]);
  });

  it('finds a blob by id as soon as its save is answered, and refuses or removes it at once, however slow the index', async () => {
    await open();
    // each save's answer does not wait for its index write: what reads the index must wait instead
    vi.spyOn(IdIndex.prototype, 'apply').mockImplementation(slowIndex(20));
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const { ids } = await store.save([{ timestamp: i }]);
        expect(await store.get(ids[0]!)).toEqual({ _id: ids[0], timestamp: i });
      }),
    );
    const { ids } = await store.save([{ timestamp: 20 }]);
    expect(await store.save([{ _id: ids[0], timestamp: 21 }])).toMatchObject({ existing: ids });
    const { ids: gone } = await store.save([{ timestamp: 30 }]);
    expect(await store.remove(['missing', ...gone])).toBe(1);
    expect(await store.get(gone[0]!)).toBeUndefined();
    vi.restoreAllMocks();
  });

  it('a slow index slows writes down rather than queueing their entries', async () => {
    await open();
    let written = 0;
    const slow = slowIndex(10);
    vi.spyOn(IdIndex.prototype, 'apply').mockImplementation(async function (this: IdIndex, ...args) {
      await slow.apply(this, args);
      written++;
    });
    for (let k = 1; k <= 5; k++) {
      await store.save([{ timestamp: k }]);
      // the answer did not wait for its own entries, but its write waited for the write before's
      expect(written).toBeGreaterThanOrEqual(k - 1);
    }
    vi.restoreAllMocks();
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
