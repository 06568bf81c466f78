import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeTail } from '../src/store/change-tail.js';
import { PouchDbStore } from '../src/store/pouchdb.js';
import type { Change } from '../src/store/store.js';
import { allChanges } from './support/stores.js';

const change = (n: number, id: string): { n: number; change: Change } => ({ n, change: { seq: String(n), id, rev: `1-${id}`, deleted: false, doc: { _id: id, timestamp: n } } });

describe('ChangeTail', () => {
  it('serves what follows a sequence it holds, pages by limit, and skips numbers it was not given', () => {
    const tail = new ChangeTail(10, 100);
    tail.record(14, [change(12, 'a'), change(14, 'b')]); // 11 and 13: bookkeeping rows
    expect(tail.read(10, 10)).toEqual({ changes: [change(12, 'a').change, change(14, 'b').change], lastSeq: 14 });
    expect(tail.read(10, 1)).toEqual({ changes: [change(12, 'a').change], lastSeq: 12 });
    expect(tail.read(12, 10)).toEqual({ changes: [change(14, 'b').change], lastSeq: 14 });
    expect(tail.read(14, 10)).toEqual({ changes: [], lastSeq: 14 });
    expect(tail.read(9, 10)).toBeUndefined(); // before the tail: the database's to answer
  });

  it('forgets its oldest changes past its bound, and everything when reset', () => {
    const tail = new ChangeTail(0, 2);
    tail.record(3, [change(1, 'a'), change(2, 'b'), change(3, 'c')]);
    expect(tail.read(0, 10)).toBeUndefined();
    expect(tail.read(1, 10)?.changes.map((c) => c.id)).toEqual(['b', 'c']);
    tail.reset(5); // as the store does after a write it cannot number (a row refused)
    tail.record(6, [change(6, 'd')]);
    expect(tail.read(3, 10)).toBeUndefined();
    expect(tail.read(6, 10)).toEqual({ changes: [], lastSeq: 6 });
    tail.record(7, [change(7, 'e')]);
    expect(tail.read(6, 10)?.changes.map((c) => c.id)).toEqual(['e']);
  });

  it('holds exactly its newest changes through many writes past its bound', () => {
    const bound = 8;
    const tail = new ChangeTail(0, bound);
    const all: { n: number; change: Change }[] = [];
    let seq = 0;
    for (let write = 0; write < 200; write++) {
      // 1–3 rows a write, and now and then a row the feed does not show (a skipped number)
      const rows = Array.from({ length: 1 + (write % 3) }, () => change(++seq, `b${seq}`));
      if (write % 5 === 0) seq++;
      tail.record(seq, rows);
      all.push(...rows);
      const held = all.slice(-bound);
      const from = all.length > bound ? all[all.length - bound - 1]!.n : 0;
      expect(tail.read(from - 1, 100)).toBeUndefined();
      expect(tail.read(from, 100)).toEqual({ changes: held.map((h) => h.change), lastSeq: seq });
      if (held.length === bound) expect(tail.read(held[2]!.n, 3)).toEqual({ changes: held.slice(3, 6).map((h) => h.change), lastSeq: held[5]!.n });
    }
  });
});

describe('the PouchDB store follows its own writes from memory', () => {
  let dir: string;
  const open = async () => {
    const store = new PouchDbStore({ dataDir: dir, dbName: 'tail', groupCommit: { maxItems: 50, concurrency: 1 } });
    await store.open();
    return store;
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-tail-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('with the same sequences, ids, revisions and docs as PouchDB gives after a restart', async () => {
    const store = await open();
    await store.save([{ timestamp: 1, before: true }]);
    const start = await store.currentSeq();
    // concurrent saves (group commit), chosen ids with a repeat, generated ids, removals
    const saved = await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(Array.from({ length: 7 }, (_, j) => ({ _id: `c${i}-${j}`, timestamp: 100 + j, i })))));
    await store.save([{ _id: 'c3-3', timestamp: 5 }, { timestamp: 6, generated: true }]); // c3-3 exists: not written again
    expect(await store.remove(['c1-1', 'c2-2', 'missing', 'c4-4'])).toBe(3);
    await store.save([{ _id: 'c1-1', timestamp: 7, again: true }]); // a removed id may come back
    const live = await allChanges(store, start, 9);
    expect(live.changes).toHaveLength(20 * 7 + 1 + 3 + 1);
    expect(live.changes.filter((c) => c.deleted).map((c) => c.id)).toEqual(['c1-1', 'c2-2', 'c4-4']);
    expect(saved.flatMap((s) => s.existing)).toEqual([]);
    await store.close();

    const reopened = await open(); // an empty tail: PouchDB's own feed answers
    const fromDisk = await allChanges(reopened, start, 9);
    // PouchDB's feed, like CouchDB's, shows a doc at its latest change only: a removed blob as its
    // removal. Followed live, each change shows. (c1-1 came back as another doc: its own timestamp.)
    const latest = live.changes.filter((c, i) => c.deleted || !live.changes.slice(i + 1).some((later) => later.id === c.id && later.deleted));
    expect(latest.length).toBe(live.changes.length - 3);
    expect(fromDisk).toEqual({ ...live, changes: latest });
    expect(await reopened.currentSeq()).toBe(live.lastSeq);
    await reopened.close();
  });
});
