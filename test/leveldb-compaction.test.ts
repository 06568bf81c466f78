import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANGE, CHANGE_END, changeKey, idKey, META, timeKey } from '../src/store/leveldb/keys.js';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import type { CompactionOptions } from '../src/store/leveldb/compaction.js';
import { InvalidSeqError, type KpiBlob } from '../src/store/store.js';
import { FeedCloseCode, Routes } from 'kpiggybank-client/wire';
import { serveApp } from './support/app.js';
import { FeedClient, until } from './support/feed-client.js';
import { allChanges } from './support/stores.js';

const groupCommit = { maxItems: 500, concurrency: 4 };

/** Bytes of every file under `dir` (what `du -sb` counts, but for the folders themselves). */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function changeKeys(location: string): Promise<number> {
  const db = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    return (await db.keys({ gt: CHANGE, lt: CHANGE_END }).all()).length;
  } finally {
    await db.close();
  }
}

const blobsFrom = (from: number, n: number): KpiBlob[] =>
  Array.from({ length: n }, (_, i) => ({ _id: `blob-${String(from + i).padStart(6, '0')}`, timestamp: 1_338_000_000_000 + from + i, lang: 'en', payload: 'x'.repeat(100) }));

async function removeInBatches(store: LevelDbStore, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await store.remove(ids.slice(i, i + 500));
}

describe('the leveldb store, after removals', () => {
  let dataDir: string;
  const stores: LevelDbStore[] = [];
  const open = async (dbName: string, compaction: Partial<CompactionOptions>) => {
    const store = new LevelDbStore({ dataDir, dbName, groupCommit, compaction });
    await store.open();
    stores.push(store);
    return store;
  };
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-leveldb-compaction-'));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gives the disk back once a drain removed every blob', async () => {
    const store = await open('bid_kpi', { retainChanges: 1_000 });
    const blobs = blobsFrom(0, 30_000);
    const jsonBytes = blobs.reduce((sum, blob) => sum + JSON.stringify(blob).length, 0);
    for (let i = 0; i < blobs.length; i += 1_000) await store.save(blobs.slice(i, i + 1_000));
    const filled = await bytesUnder(dataDir);
    expect(filled).toBeGreaterThan(jsonBytes / 2); // what there is to give back

    await removeInBatches(
      store,
      blobs.map((blob) => blob._id!),
    );
    await store.compaction.idle();

    expect(await store.count()).toBe(0);
    // tables, claim book, logs and all: a few files of LevelDB's own, and the retained change log
    expect(await bytesUnder(dataDir)).toBeLessThan(jsonBytes * 0.1);
    await store.close();
    expect(await changeKeys(store.location)).toBeLessThanOrEqual(1_000);
  });

  it('answers every since at or above the trimmed log as before, refuses older ones, and lists every stored blob from 0', async () => {
    // the same writes and removals, with the same ids, on a store that never trims: the answers as they were
    const untrimmed = await open('untrimmed', { everyRemoved: Number.POSITIVE_INFINITY });
    const trimmed = await open('trimmed', { retainChanges: 500, everyRemoved: 400 });
    const blobs = blobsFrom(0, 2_000);
    const kept = new Set([blobs[5]!._id, blobs[700]!._id, blobs[1_999]!._id]);
    const removed = blobs.map((blob) => blob._id!).filter((id) => !kept.has(id));
    for (const store of [untrimmed, trimmed]) {
      for (let i = 0; i < blobs.length; i += 500) await store.save(blobs.slice(i, i + 500));
      await removeInBatches(store, removed);
      await store.compaction.idle(); // the last step saw every removal: the floor is exactly known
      await store.save(blobsFrom(5_000, 10)); // written after the removals: above the floor
    }

    const newest = Number(await trimmed.currentSeq());
    expect(newest).toBe(2_000 + removed.length + 10);
    const floor = trimmed.compaction.logFloor;
    expect(floor).toBe(2_000 + removed.length - 500); // the step after the last removal: its newest seq less the retention
    for (const since of [floor, floor + 1, floor + 250, newest - 5, newest]) {
      expect((await allChanges(trimmed, String(since), 100)).changes, `since ${since}`).toEqual((await allChanges(untrimmed, String(since), 100)).changes);
    }
    for (const since of [1, 100, floor - 1]) {
      await expect(trimmed.changes(String(since), { limit: 10, waitMs: 0 }), `since ${since}`).rejects.toThrow(InvalidSeqError);
    }
    // from 0: every blob stored (the old ones too) and the history retained (writes of removed blobs and removals above the floor)
    const all = (await allChanges(untrimmed, '0', 100)).changes;
    const stillStored = new Set([...kept, ...blobsFrom(5_000, 10).map((b) => b._id)]);
    expect(all.filter((change) => !change.deleted)).toHaveLength(2_010); // untrimmed: every write, of removed blobs too
    expect((await allChanges(trimmed, '0', 100)).changes).toEqual(all.filter((change) => Number(change.seq) > floor || (!change.deleted && stillStored.has(change.id))));
    expect((await allChanges(trimmed, '0', 100)).changes.filter((change) => !change.deleted).map((change) => change.id)).toEqual([
      ...kept,
      ...blobsFrom(5_000, 10).map((b) => b._id),
    ]);

    // the floor is on disk: a reopened store refuses the same
    await trimmed.close();
    stores.splice(stores.indexOf(trimmed), 1);
    // on disk: the writes of the 3 blobs still stored below the floor, and the history above it (the removed blobs' JSON below it went)
    expect(await changeKeys(trimmed.location)).toBe(3 + newest - floor);
    const reopened = await open('trimmed', { retainChanges: 500 });
    expect(reopened.compaction.logFloor).toBe(floor);
    await expect(reopened.changes(String(floor - 1), { limit: 10, waitMs: 0 })).rejects.toThrow(InvalidSeqError);
    expect((await allChanges(reopened, String(floor), 100)).changes).toEqual((await allChanges(untrimmed, String(floor), 100)).changes);
  });

  it('trims the write entries an older store kept for its removed blobs (id keys of a bare timestamp)', async () => {
    // the layout before the id key held its write's seq: a removal there leaves the write entry to the trim
    const blobs = blobsFrom(0, 1_000);
    const location = path.join(dataDir, 'old.leveldb');
    const raw = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await raw.open();
    const batch = raw.batch();
    blobs.forEach((blob, i) => {
      batch.put(timeKey(blob.timestamp, blob._id!), JSON.stringify(blob));
      batch.put(idKey(blob._id!), String(blob.timestamp));
      batch.put(changeKey(i + 1), JSON.stringify({ id: blob._id, ts: blob.timestamp, deleted: false }));
    });
    batch.put(META, JSON.stringify({ count: 1_000, seq: 1_000 }));
    await batch.write();
    await raw.close();

    const store = await open('old', { retainChanges: 100, everyRemoved: 1 });
    await store.remove(blobs.slice(100).map((blob) => blob._id!)); // seqs 1001-1900, 100 blobs left: a chunked trim
    await store.compaction.idle();
    expect(store.compaction.logFloor).toBe(1_800);
    const { changes, complete } = await store.changes('0', { limit: 1_000, waitMs: 0 }); // one page: a page of 100 would resume below the floor
    expect(complete).toBe(true);
    expect(changes.filter((change) => !change.deleted).map((change) => change.id)).toEqual(blobs.slice(0, 100).map((blob) => blob._id));
    expect(changes.filter((change) => change.deleted).map((change) => Number(change.seq))).toEqual(Array.from({ length: 100 }, (_, i) => 1_801 + i));
    await store.close();
    stores.splice(0);
    // the 100 writes of blobs still stored and the 100 removals retained: the 900 old write entries went
    expect(await changeKeys(location)).toBe(200);
  });

  it('closes cleanly while a compaction runs, and opens again', async () => {
    const store = await open('bid_kpi', { retainChanges: 100 });
    const blobs = blobsFrom(0, 10_000);
    for (let i = 0; i < blobs.length; i += 1_000) await store.save(blobs.slice(i, i + 1_000));
    await store.remove(blobs.map((blob) => blob._id!)); // leaves it empty: a step starts at once
    await store.close();
    stores.splice(0);
    const reopened = await open('bid_kpi', { retainChanges: 100 });
    expect(await reopened.count()).toBe(0);
    expect(await reopened.currentSeq()).toBe('20000');
    await reopened.save(blobsFrom(20_000, 1));
    expect((await allChanges(reopened, '19999', 100)).changes.map((change) => change.id)).toEqual([blobs[9_999]!._id, 'blob-020000']);
  });

  it('tells a feed subscriber resuming from before the trimmed log 4400, and one from inside it every change after its since', { timeout: 20_000 }, async () => {
    const store = new LevelDbStore({ dataDir, dbName: 'feed', groupCommit, compaction: { retainChanges: 100, everyRemoved: 1 } });
    await store.open();
    const t = await serveApp(store, { onClose: () => store.close() });
    try {
      const blobs = blobsFrom(0, 600);
      await store.save(blobs);
      await removeInBatches(
        store,
        blobs.slice(0, 550).map((blob) => blob._id!),
      );
      await store.compaction.idle();
      // the hub's follower read from ~500 on meanwhile: the trim stopped at or below where it read
      const floor = store.compaction.logFloor;
      expect(floor).toBeGreaterThanOrEqual(500);
      expect(floor).toBeLessThanOrEqual(600 + 550 - 100);

      const old = await FeedClient.connect(t.wsUrl, { since: '300' }); // had seen blob 299 written; its removal is trimmed
      expect((await old.closed).code).toBe(FeedCloseCode.invalid_since);
      const legacy = await fetch(`${t.url}${Routes.stream}?since=300`);
      expect(legacy.status).toBe(400);
      await legacy.body?.cancel();

      const inside = await FeedClient.connect(t.wsUrl, { since: String(floor) });
      await until(() => inside.isLive, 10_000, 'live');
      const expected = (await allChanges(store, String(floor), 1_000)).changes;
      expect(expected.length).toBeGreaterThanOrEqual(100);
      expect(inside.changes.map((change) => [change.seq, change.id, change.deleted === true])).toEqual(expected.map((change) => [change.seq, change.id, change.deleted]));
      await inside.close();
    } finally {
      await t.close();
    }
  });

  it('trims no further than a since read just before: a lagging follower is not cut off', async () => {
    const store = await open('lagging', { retainChanges: 100, everyRemoved: 1 });
    const blobs = blobsFrom(0, 1_000);
    await store.save(blobs);
    const lagging = await store.changes('200', { limit: 10, waitMs: 0 }); // a reader far behind the newest 100
    await removeInBatches(
      store,
      blobs.map((blob) => blob._id!),
    );
    await store.compaction.idle();
    expect(store.compaction.logFloor).toBe(200);
    const rest = await allChanges(store, lagging.lastSeq, 500);
    // every write after it (of blobs removed since) and every removal
    expect(rest.changes.filter((change) => !change.deleted).map((change) => change.id)).toEqual(blobs.slice(Number(lagging.lastSeq)).map((blob) => blob._id));
    expect(rest.changes.filter((change) => change.deleted)).toHaveLength(1_000);
  });

  it('trims the rest once the lagging reader caught up', async () => {
    const store = await open('caught-up', { retainChanges: 100, everyRemoved: 1, readWindowMs: 1_000 });
    const blobs = blobsFrom(0, 1_000);
    await store.save(blobs);
    await store.changes('200', { limit: 10, waitMs: 0 });
    await removeInBatches(
      store,
      blobs.map((blob) => blob._id!),
    );
    await store.compaction.idle();
    expect(store.compaction.logFloor).toBe(200);
    // the reader reads no more: once its read is past the window, a retry of the held-back step goes as far as the retention
    await until(() => store.compaction.logFloor === 1_900, 10_000, 'the held-back trim to be tried again');
    await store.compaction.idle();
    await store.close();
    stores.splice(0);
    expect(await changeKeys(store.location)).toBe(100);
  });
});
