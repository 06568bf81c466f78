import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rangePages, rangeRowPages } from '../src/store/range.js';
import type { RangeQuery, RangeRow, Store, StoredBlob } from '../src/store/store.js';
import { openTestStore, type TestStore } from './support/stores.js';

async function blobs(store: Store, query: RangeQuery, pageSize: number): Promise<StoredBlob[]> {
  const all: StoredBlob[] = [];
  for await (const page of rangePages(store, query, pageSize)) all.push(...page);
  return all;
}

async function rows(store: Store, query: RangeQuery, pageSize: number): Promise<RangeRow[]> {
  const all: RangeRow[] = [];
  for await (const page of rangeRowPages(store, query, pageSize)) all.push(...page);
  return all;
}

const QUERIES: RangeQuery[] = [
  {},
  { descending: true },
  { start: 3, end: 6 },
  { start: 3, end: 6, descending: true },
  { limit: 7 },
  { limit: 9, descending: true },
  { start: 9, end: 2 },
  { limit: 4 },
];

// memory has no pageJson: its rows come from page(), encoded; leveldb hands over its stored text
describe.each(['memory', 'leveldb'] as const)('range rows on the %s store', (backend) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(backend);
    // ties on timestamps, so that page ends fall between blobs of one timestamp
    await t.store.save(Array.from({ length: 25 }, (_, i) => ({ timestamp: i % 9, n: i, text: `ü "${i}"`, nested: { list: [i, { deep: true }] } })));
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it.each(QUERIES)('are the blobs of the range, in order, as their JSON: %j', async (query) => {
    for (const pageSize of [1, 4, 1000]) {
      const expected = await blobs(t.store, query, pageSize);
      const got = await rows(t.store, query, pageSize);
      expect(got.map((row) => row.json)).toEqual(expected.map((blob) => JSON.stringify(blob)));
      expect(got.map(({ timestamp, id }) => ({ timestamp, id }))).toEqual(expected.map((blob) => ({ timestamp: blob.timestamp, id: blob._id })));
    }
  });

  it('stop reading when the consumer stops, a page read ahead at most', async () => {
    let pages = 0;
    const counting: Store = Object.create(t.store, {
      page: {
        value: (...args: Parameters<Store['page']>) => {
          pages++;
          return t.store.page(...args);
        },
      },
      pageJson: {
        value:
          t.store.pageJson &&
          ((...args: Parameters<NonNullable<Store['pageJson']>>) => {
            pages++;
            return t.store.pageJson!(...args);
          }),
      },
    }) as Store;
    for await (const page of rangeRowPages(counting, {}, 2)) {
      expect(page).toHaveLength(2);
      break;
    }
    expect(pages).toBe(2);
  });
});

describe('the leveldb store', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('leveldb');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('gives a change its blob however it is read: as a property, spread, or as JSON', async () => {
    const { ids } = await t.store.save([{ timestamp: 5, a: [1, 2] }]);
    const [change] = (await t.store.changes('0', { limit: 10, waitMs: 0 })).changes;
    const blob = { _id: ids[0], timestamp: 5, a: [1, 2] };
    expect(change!.doc).toEqual(blob);
    expect({ ...change }.doc).toEqual(blob);
    expect(JSON.parse(JSON.stringify(change))).toEqual({ seq: change!.seq, id: ids[0], rev: change!.rev, deleted: false, doc: blob });
  });

  it('follows the same log without the blobs when asked for none', async () => {
    const { ids } = await t.store.save([{ timestamp: 1 }, { timestamp: 2 }, { timestamp: 3 }]);
    await t.store.remove([ids[1]!]);
    const full = await t.store.changes('0', { limit: 10, waitMs: 0 });
    const bare = await t.store.changes('0', { limit: 10, waitMs: 0, docs: false });
    expect(bare.lastSeq).toBe(full.lastSeq);
    expect(bare.complete).toBe(true);
    // every entry (the write of the removed blob too, then its removal), and none with its blob
    const entries = [
      [ids[0], false],
      [ids[1], false],
      [ids[2], false],
      [ids[1], true],
    ];
    expect(bare.changes.map(({ id, deleted }) => [id, deleted])).toEqual(entries);
    expect(bare.changes.every((change) => change.doc === undefined)).toBe(true);
    expect(full.changes.map(({ id, deleted }) => [id, deleted])).toEqual(entries);
    expect(full.changes[1]!.doc).toEqual({ _id: ids[1], timestamp: 2 });
    const limited = await t.store.changes('0', { limit: 2, waitMs: 0, docs: false });
    expect([limited.changes.length, limited.complete]).toEqual([2, false]);
  });
});
