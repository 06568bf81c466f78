import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import { revOf } from './support/stores.js';

/** The leveldb store's claims, in a LevelDB of their own (store.test.ts tests every store's compare-and-set). */
describe('leveldb claim book on disk', () => {
  let dir: string;
  let store: LevelDbStore | undefined;
  const open = async () => {
    store = new LevelDbStore({ dataDir: dir, dbName: 'kpi', groupCommit: { maxItems: 100, concurrency: 1 } });
    await store.open();
    return store;
  };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-claims-'));
  });
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps claims across a restart', async () => {
    await (await open()).claims.write([{ _id: 'b:kept', drain: 'one' }]);
    const rev = await revOf(store!.claims, 'b:kept');
    await store!.close();
    await open();
    expect((await store!.claims.fetch(['b:kept'])).get('b:kept')).toEqual({ _id: 'b:kept', _rev: rev, drain: 'one' });
    // revisions given after the restart are new ones
    expect(await store!.claims.write([{ _id: 'b:kept', _rev: rev, drain: 'two' }])).toEqual([true]);
    expect(await revOf(store!.claims, 'b:kept')).not.toBe(rev);
  });
});
