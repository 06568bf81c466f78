import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANGE, CHANGE_END, idKey, META, TIME, TIME_END, timeKey, changeKey, type Meta } from '../src/store/leveldb/keys.js';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import { storeOpenFailure } from '../src/startup-failure.js';
import { InvalidSeqError, StoreError } from '../src/store/store.js';
import { postBlobs } from './support/post.js';
import { spawnServer } from './support/server-process.js';
import { allChanges } from './support/stores.js';

const groupCommit = { maxItems: 500, concurrency: 4 };

/** What the raw database holds, kind by kind, to check that no kind fell behind another. */
async function rawCounts(location: string): Promise<{ meta: Meta; blobs: number; ids: number; changes: number[] }> {
  const db = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const meta = JSON.parse((await db.get(META)) ?? '{"count":0,"seq":0}') as Meta;
    const blobs = (await db.keys({ gt: TIME, lt: TIME_END }).all()).length;
    const ids = (await db.keys({ gt: 'i', lt: 'j' }).all()).length;
    const changes = (await db.keys({ gt: CHANGE, lt: CHANGE_END }).all()).map((key) => Number(key.slice(CHANGE.length)));
    return { meta, blobs, ids, changes };
  } finally {
    await db.close();
  }
}

describe('the leveldb store', () => {
  let dataDir: string;
  let store: LevelDbStore;
  const open = async () => {
    const s = new LevelDbStore({ dataDir, dbName: 'bid_kpi', groupCommit });
    await s.open();
    return s;
  };
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-leveldb-'));
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps its count, its sequence and its ids across a reopen', async () => {
    const first = await store.save([{ _id: 'chosen', timestamp: 5 }, { timestamp: 6 }, { timestamp: 7 }]);
    expect(await store.remove([first.ids[2]!])).toBe(1);
    const seq = await store.currentSeq();
    expect(seq).toBe('4'); // three writes and a removal
    await store.close();
    store = await open();
    expect(await store.count()).toBe(2);
    expect(await store.currentSeq()).toBe(seq);
    // a chosen id stored before the reopen is still taken; new changes number on from the old end
    expect(await store.save([{ _id: 'chosen', timestamp: 5, again: true }, { timestamp: 8 }])).toMatchObject({ existing: ['chosen'] });
    expect(await store.get('chosen')).toEqual({ _id: 'chosen', timestamp: 5 });
    expect(await store.count()).toBe(3);
    const { changes } = await allChanges(store, '0', 2);
    expect(changes.map((c) => [c.seq, c.deleted, c.doc?._id])).toEqual([
      ['1', false, 'chosen'],
      ['2', false, first.ids[1]],
      ['3', false, first.ids[2]], // the write of the removed blob, with its blob kept across the reopen: its removal follows
      ['4', true, undefined],
      ['5', false, expect.any(String)],
    ]);
    expect(await rawCounts(path.join(dataDir, 'bid_kpi.leveldb')).catch((error: unknown) => error)).toBeInstanceOf(Error); // locked by the open store
  });

  it('keeps a removed blob in its write entry: a since before the write gets the blob, then its removal; one after it, the removal only', async () => {
    const blobs = [
      { timestamp: 1, a: 'one' },
      { timestamp: 2, a: 'two' },
      { timestamp: 3, a: 'three "quoted"', nested: { b: [1, 2] } },
    ];
    const { ids } = await store.save(blobs);
    const stored = blobs.map((blob, i) => ({ _id: ids[i], ...blob }));
    expect(await store.remove([ids[0]!, ids[2]!])).toBe(2);
    await store.close();
    const location = path.join(dataDir, 'bid_kpi.leveldb');
    // seqs 1-3 the writes (kept, the removed ones with their blob's JSON), 4-5 the removals; the removed blobs' time and id keys went
    expect(await rawCounts(location)).toMatchObject({ blobs: 1, ids: 1, changes: [1, 2, 3, 4, 5] });
    store = await open();
    expect(await store.get(ids[0]!)).toBeUndefined();
    const history = (await allChanges(store, '0', 10)).changes;
    expect(history.map((c) => [c.seq, c.id, c.deleted, c.doc])).toEqual([
      ['1', ids[0], false, stored[0]],
      ['2', ids[1], false, stored[1]],
      ['3', ids[2], false, stored[2]],
      ['4', ids[0], true, undefined],
      ['5', ids[2], true, undefined],
    ]);
    // the blob's JSON exactly as it was stored: the change hub writes it out as it is
    expect(history.map((c) => c.json)).toEqual([...stored.map((blob) => JSON.stringify(blob)), undefined, undefined]);
    expect((await allChanges(store, '1', 10)).changes.map((c) => [c.seq, c.id, c.deleted])).toEqual([
      ['2', ids[1], false],
      ['3', ids[2], false],
      ['4', ids[0], true],
      ['5', ids[2], true],
    ]);
    expect((await allChanges(store, '3', 10)).changes.map((c) => [c.seq, c.id, c.deleted])).toEqual([
      ['4', ids[0], true],
      ['5', ids[2], true],
    ]);
    // removed again (not stored): nothing changes; a blob stored again under the same id is a write of its own
    expect(await store.remove([ids[0]!])).toBe(0);
    await store.save([{ _id: ids[0], timestamp: 1, a: 'again' }]);
    expect((await allChanges(store, '0', 10)).changes.map((c) => [c.seq, c.deleted, c.doc])).toEqual([
      ...history.map((c) => [c.seq, c.deleted, c.doc]),
      ['6', false, { _id: ids[0], timestamp: 1, a: 'again' }],
    ]);
  });

  it('reads an id key of the older layout (a bare timestamp): get, a duplicate, and a removal', async () => {
    await store.close();
    const location = path.join(dataDir, 'bid_kpi.leveldb');
    const db = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    await db.batch([
      { type: 'put', key: timeKey(7, 'old'), value: JSON.stringify({ _id: 'old', timestamp: 7 }) },
      { type: 'put', key: idKey('old'), value: '7' },
      { type: 'put', key: changeKey(1), value: JSON.stringify({ id: 'old', ts: 7, deleted: false }) },
      { type: 'put', key: META, value: JSON.stringify({ count: 1, seq: 1 }) },
    ]);
    await db.close();
    store = await open();
    expect(await store.get('old')).toEqual({ _id: 'old', timestamp: 7 });
    expect(await store.save([{ _id: 'old', timestamp: 7 }])).toMatchObject({ existing: ['old'] });
    expect(await store.remove(['old'])).toBe(1);
    expect(await store.get('old')).toBeUndefined();
    expect((await allChanges(store, '0', 10)).changes.map((c) => [c.seq, c.deleted])).toEqual([['2', true]]);
  });

  it('counts removals once, also of ids given twice or not stored', async () => {
    const { ids } = await store.save([{ timestamp: 1 }, { timestamp: 2 }]);
    expect(await store.remove([ids[0]!, ids[0]!, 'no-such-id'])).toBe(1);
    expect(await store.remove([ids[0]!])).toBe(0);
    expect(await store.count()).toBe(1);
    expect(await store.get(ids[0]!)).toBeUndefined();
    expect(await store.currentSeq()).toBe('3');
  });

  it('refuses a since beyond its end, or not a decimal sequence, also after a reopen', async () => {
    await store.save([{ timestamp: 1 }]);
    await expect(store.changes('2', { limit: 10, waitMs: 0 })).rejects.toBeInstanceOf(InvalidSeqError);
    await expect(store.changes('1-abc', { limit: 10, waitMs: 0 })).rejects.toBeInstanceOf(InvalidSeqError);
    await store.close();
    store = await open();
    await expect(store.changes('2', { limit: 10, waitMs: 100 })).rejects.toThrow(/no sequence 2: its newest is 1/);
    expect(await store.changes('1', { limit: 10, waitMs: 0 })).toEqual({ changes: [], lastSeq: '1', complete: true });
  });

  it('refuses a second store on the same folder, in words an operator can act on', async () => {
    const second = new LevelDbStore({ dataDir, dbName: 'bid_kpi', groupCommit });
    const error = await second.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/bid_kpi\.leveldb is in use by another process/);
    expect(storeOpenFailure(error, { backend: 'leveldb', dataDir })).toMatch(/^DATA_DIR .* is in use by another kpiggybank \(its LevelDB is locked\)/);
    // the first is unharmed
    await store.save([{ timestamp: 1 }]);
    expect(await store.count()).toBe(1);
  });
});

describe('the leveldb store killed (SIGKILL) under concurrent POSTs', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-leveldb-kill-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every blob that got a 201, and its blobs, ids, changes and count in step', { timeout: 30_000 }, async () => {
    const server = await spawnServer({ DB_BACKEND: 'leveldb', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    const url = await server.ready;
    const acknowledged: string[] = [];
    const refusals: string[] = [];
    let killed = false;
    const poster = async (n: number) => {
      for (let i = 0; !killed; i++) {
        const blobs = Array.from({ length: 1 + ((n + i) % 20) }, (_, k) => ({ timestamp: Date.now() + k, n, i }));
        try {
          acknowledged.push(...(await postBlobs(url, blobs)));
        } catch (error) {
          if (!killed) refusals.push(String(error)); // else the connection died with the process
          return;
        }
      }
    };
    const posters = Array.from({ length: 16 }, (_, n) => poster(n));
    while (acknowledged.length < 2000 && refusals.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(refusals).toEqual([]);
    server.child.kill('SIGKILL');
    killed = true;
    await server.exited;
    await Promise.all(posters);

    const raw = await rawCounts(path.join(dataDir, 'bid_kpi.leveldb'));
    // one atomic batch per group commit: nothing of a batch can be there without the rest
    expect(raw.blobs).toBe(raw.meta.count);
    expect(raw.ids).toBe(raw.meta.count);
    expect(raw.changes).toEqual(Array.from({ length: raw.meta.seq }, (_, i) => i + 1));
    expect(raw.meta.count).toBeGreaterThanOrEqual(acknowledged.length);

    const store = new LevelDbStore({ dataDir, dbName: 'bid_kpi', groupCommit });
    await store.open();
    try {
      const missing: string[] = [];
      for (const id of acknowledged) if ((await store.get(id)) === undefined) missing.push(id);
      expect(missing).toEqual([]);
      expect(await store.count()).toBe(raw.meta.count);
    } finally {
      await store.close();
    }
  });
});
