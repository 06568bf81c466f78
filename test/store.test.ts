import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastBlob, rangePages } from '../src/store/range.js';
import type { RangeQuery, Store, StoredBlob } from '../src/store/store.js';
import { inClaimedOrder } from './support/change-order.js';
import { allChanges, BACKENDS, openTestStore, revOf, type TestStore } from './support/stores.js';

const idsAfter = async (store: Store, since: string) => (await allChanges(store, since, 2)).changes.map((change) => change.id);

async function collect(store: Store, query: RangeQuery, pageSize?: number): Promise<StoredBlob[]> {
  const all: StoredBlob[] = [];
  for await (const page of rangePages(store, query, pageSize)) all.push(...page);
  return all;
}

describe.each(BACKENDS)('%s store', (backend) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(backend);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('stores blobs and gives each an id; get returns the blob without _rev', async () => {
    const { ids, existing } = await t.store.save([
      { timestamp: 10, a: 1 },
      { timestamp: 11, nested: { b: [1, 2] } },
    ]);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect(existing).toEqual([]);
    expect(await t.store.get(ids[1]!)).toEqual({ _id: ids[1], timestamp: 11, nested: { b: [1, 2] } });
    expect(await t.store.get('no-such-id')).toBeUndefined();
    expect(await t.store.count()).toBe(2);
  });

  it('stores a client-chosen _id once: a retry reports it as existing', async () => {
    expect(await t.store.save([{ _id: 'retry-me', timestamp: 5, v: 1 }])).toEqual({ ids: ['retry-me'], existing: [] });
    expect(await t.store.save([{ _id: 'retry-me', timestamp: 5, v: 1 }, { timestamp: 6 }])).toMatchObject({ existing: ['retry-me'] });
    expect(await t.store.count()).toBe(2);
    // concurrent saves of one id (likely in one group commit) still store a single copy
    const results = await Promise.all([1, 2, 3].map(() => t.store.save([{ _id: 'race', timestamp: 7 }])));
    expect(results.filter((r) => r.existing.length === 0)).toHaveLength(1);
    expect(await t.store.count()).toBe(3);
  });

  it('reads ranges inclusively, ordered by timestamp then id, in pages', async () => {
    // out of order on purpose, with ties on one timestamp
    const timestamps = [5, 3, 9, 1, 7, 3, 3, 8, 2, 6, 4, 10];
    await t.store.save(timestamps.map((timestamp, i) => ({ timestamp, _id: `id-${String(i).padStart(2, '0')}` })));
    const all = await collect(t.store, {}, 5);
    expect(all.map((b) => b.timestamp)).toEqual([...timestamps].sort((a, b) => a - b));
    const threes = all.filter((b) => b.timestamp === 3).map((b) => b._id);
    expect(threes).toEqual([...threes].sort());

    expect((await collect(t.store, { start: 3, end: 5 }, 2)).map((b) => b.timestamp)).toEqual([3, 3, 3, 4, 5]);
    expect((await collect(t.store, { start: 8 }, 2)).map((b) => b.timestamp)).toEqual([8, 9, 10]);
    expect((await collect(t.store, { end: 2 }, 1)).map((b) => b.timestamp)).toEqual([1, 2]);
    expect((await collect(t.store, { descending: true, start: 3, end: 6 }, 2)).map((b) => b.timestamp)).toEqual([6, 5, 4, 3, 3, 3]);
    expect((await collect(t.store, { limit: 4 }, 3)).map((b) => b.timestamp)).toEqual([1, 2, 3, 3]);
    expect(await collect(t.store, { start: 6, end: 5 })).toEqual([]);
    expect(await collect(t.store, { start: 11 })).toEqual([]);
    expect((await collect(t.store, { descending: true }, 4)).map((b) => b._id)).toEqual(all.map((b) => b._id).reverse());
  });

  it('reads pages of hundreds in order, both ways, with ties', async () => {
    // 1,200 blobs, four to a timestamp, saved newest first: pages are large enough to be read in parts
    const blobs = Array.from({ length: 1200 }, (_, i) => ({ _id: `b${String(1199 - i).padStart(4, '0')}`, timestamp: Math.floor((1199 - i) / 4) }));
    for (let i = 0; i < blobs.length; i += 400) await t.store.save(blobs.slice(i, i + 400));
    const ascending = [...blobs].reverse().map((b) => b._id);
    expect((await collect(t.store, {}, 500)).map((b) => b._id)).toEqual(ascending);
    expect((await collect(t.store, { descending: true }, 450)).map((b) => b._id)).toEqual(blobs.map((b) => b._id));
    expect((await collect(t.store, { start: 10, end: 200, limit: 700 }, 333)).map((b) => b._id)).toEqual(ascending.slice(40, 740));
  });

  it('reads every blob present throughout a range read once, in order, while others come and go', async () => {
    const kept = Array.from({ length: 1000 }, (_, i) => ({ _id: `k${String(i).padStart(4, '0')}`, timestamp: i * 2 }));
    const doomed = Array.from({ length: 1000 }, (_, i) => ({ _id: `d${String(i).padStart(4, '0')}`, timestamp: i * 2 + 1 }));
    await t.store.save([...kept, ...doomed]);
    let reading = true;
    const churn = (async () => {
      // remove the doomed ones and add new ones between the kept ones, while the range is read
      for (let i = 0; reading && i < 1000; i += 20) {
        await t.store.remove(doomed.slice(i, i + 20).map((b) => b._id));
        await t.store.save(Array.from({ length: 20 }, (_, k) => ({ _id: `n${i + k}`, timestamp: (i + k) * 2 + 1 })));
      }
    })();
    const read = await collect(t.store, {}, 250);
    reading = false;
    await churn;
    const ids = read.map((b) => b._id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('k'))).toEqual(kept.map((b) => b._id));
    const keys = read.map((b) => [b.timestamp, b._id] as const);
    expect(keys).toEqual([...keys].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1)));
  });

  it('handles any id and the extreme timestamps', async () => {
    const ids = ['with/slash', 'ünïcödé', '😀', '\uffff-high', 'space id', 'z'];
    const max = Number.MAX_SAFE_INTEGER;
    await t.store.save([...ids.map((_id, i) => ({ _id, timestamp: 1000 + i })), { _id: 'zero', timestamp: 0 }, { _id: 'max', timestamp: max }]);
    for (const [i, id] of ids.entries()) expect(await t.store.get(id)).toEqual({ _id: id, timestamp: 1000 + i });
    expect((await collect(t.store, { start: 1000, end: 1010 })).map((b) => b._id)).toEqual(ids);
    expect((await collect(t.store, { start: 1002, end: 1003 })).map((b) => b._id)).toEqual(['😀', '\uffff-high']);
    expect((await collect(t.store, { start: 1002, end: 1003, descending: true })).map((b) => b._id)).toEqual(['\uffff-high', '😀']);
    expect((await collect(t.store, { start: -5, end: 0 })).map((b) => b._id)).toEqual(['zero']);
    expect(await collect(t.store, { end: -1 })).toEqual([]);
    expect((await collect(t.store, { start: max })).map((b) => b._id)).toEqual(['max']);
    expect((await lastBlob(t.store))?._id).toBe('max');
    expect(await t.store.count()).toBe(8);
  });

  it('finds the last blob by timestamp, and none in an empty store', async () => {
    expect(await lastBlob(t.store)).toBeUndefined();
    expect(await t.store.count()).toBe(0);
    await t.store.save([
      { timestamp: 100, n: 'late' },
      { timestamp: 50, n: 'early' },
    ]);
    expect(await lastBlob(t.store)).toMatchObject({ timestamp: 100, n: 'late' });
  });

  it('keeps a design document out of count and ranges', async () => {
    await t.store.save([{ timestamp: 1 }]);
    expect(await t.store.count()).toBe(1);
    expect(await collect(t.store, {})).toHaveLength(1);
  });

  it('waits for a change when there is none, and resumes after what the wait brought, without a gap or a repeat', async () => {
    const since = await t.store.currentSeq();
    const waiting = t.store.changes(since, { limit: 500, waitMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { ids } = await t.store.save([1, 2, 3, 4, 5].map((timestamp) => ({ timestamp })));
    const woken = await waiting;
    expect(woken.changes.length).toBeGreaterThan(0); // perhaps not all five: a store may wake at the first
    // what the wait brought and what comes after it: the five, each once (in write order where the store keeps one)
    const byId = (id: string) => id;
    expect(inClaimedOrder(backend, [...woken.changes.map((change) => change.id), ...(await idsAfter(t.store, woken.lastSeq))], byId)).toEqual(inClaimedOrder(backend, ids, byId));
  });

  it('answers empty and complete when nothing comes within the wait, at a sequence that misses nothing after', async () => {
    await t.store.save([{ timestamp: 1 }]);
    const since = await t.store.currentSeq();
    const quiet = await t.store.changes(since, { limit: 500, waitMs: 300 });
    expect(quiet).toMatchObject({ changes: [], complete: true });
    const { ids } = await t.store.save([{ timestamp: 2 }]);
    expect(await idsAfter(t.store, quiet.lastSeq)).toEqual(ids);
  });

  it('tells a reader from before a removal of it; a store that keeps removed writes gives the blob first, at its write', async () => {
    const before = await t.store.currentSeq();
    const { ids } = await t.store.save([
      { timestamp: 1, a: 'drained' },
      { timestamp: 2, a: 'kept' },
    ]);
    const afterWrites = await t.store.currentSeq();
    expect(await t.store.remove([ids[0]!])).toBe(1);
    const seen = (await allChanges(t.store, before, 2)).changes.map((change) => [change.id, change.deleted, change.deleted ? undefined : change.doc]);
    const kept = [ids[1], false, { _id: ids[1], timestamp: 2, a: 'kept' }];
    const removal = [ids[0], true, undefined];
    if (t.store.keepsRemovedWrites) expect(seen).toEqual([[ids[0], false, { _id: ids[0], timestamp: 1, a: 'drained' }], kept, removal]);
    // CouchDB answers a document's newest change only: the drained blob is gone from its feed; two documents, in either order
    else expect(inClaimedOrder(backend, seen, (change) => String(change[0]))).toEqual(inClaimedOrder(backend, [kept, removal], (change) => String(change[0])));
    // a reader that had the write already gets the removal only, from every store
    expect((await allChanges(t.store, afterWrites, 2)).changes.map((change) => [change.id, change.deleted])).toEqual([[ids[0], true]]);
  });

  it('claim book: writes a document without a revision only where none is stored', async () => {
    const book = t.store.claims; // the compare-and-set the drain relies on
    expect(
      await book.write([
        { _id: 'b:1', drain: 'one' },
        { _id: 'b:2', drain: 'one' },
      ]),
    ).toEqual([true, true]);
    expect(
      await book.write([
        { _id: 'b:1', drain: 'two' },
        { _id: 'b:3', drain: 'two' },
      ]),
    ).toEqual([false, true]);
    const found = await book.fetch(['b:1', 'b:2', 'b:3', 'b:none']);
    expect([...found.keys()].sort()).toEqual(['b:1', 'b:2', 'b:3']);
    expect(found.get('b:1')).toMatchObject({ _id: 'b:1', drain: 'one', _rev: expect.any(String) });
    expect(found.get('b:3')).toMatchObject({ drain: 'two' });
    expect(await book.fetch([])).toEqual(new Map());
  });

  it('claim book: rewrites a document only at its current revision, which then changes', async () => {
    const book = t.store.claims; // the compare-and-set the drain relies on
    await book.write([{ _id: 'd:x', state: 'claiming' }]);
    const first = await revOf(book, 'd:x');
    expect(await book.write([{ _id: 'd:x', _rev: first, state: 'claimed' }])).toEqual([true]);
    const second = await revOf(book, 'd:x');
    expect(second).not.toBe(first);
    // a writer that read before the change loses
    expect(await book.write([{ _id: 'd:x', _rev: first, state: 'stale' }])).toEqual([false]);
    expect((await book.fetch(['d:x'])).get('d:x')).toMatchObject({ state: 'claimed', _rev: second });
    // of two concurrent writers from the same revision, one wins
    const both = await Promise.all(['a', 'b'].map((state) => book.write([{ _id: 'd:x', _rev: second, state }])));
    expect(both.flat().sort()).toEqual([false, true]);
  });

  it('claim book: removes a document only at its current revision', async () => {
    const book = t.store.claims; // the compare-and-set the drain relies on
    await book.write([
      { _id: 'b:1', drain: 'one' },
      { _id: 'b:2', drain: 'one' },
    ]);
    const stale = (await revOf(book, 'b:2'))!;
    await book.write([{ _id: 'b:2', _rev: stale, drain: 'two' }]);
    await book.remove([
      { _id: 'b:1', _rev: (await revOf(book, 'b:1'))! },
      { _id: 'b:2', _rev: stale },
    ]);
    expect([...(await book.fetch(['b:1', 'b:2'])).keys()]).toEqual(['b:2']);
    // once removed, the id can be claimed afresh
    expect(await book.write([{ _id: 'b:1', drain: 'three' }])).toEqual([true]);
  });
});
