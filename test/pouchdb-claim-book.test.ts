import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PouchDbStore } from '../src/store/pouchdb.js';
import { revOf } from './support/stores.js';

/** The pouchdb store's claims, in a LevelDB of their own (store.test.ts tests every store's compare-and-set). */
describe('pouchdb claim book on disk', () => {
  let dir: string;
  let store: PouchDbStore | undefined;
  const open = async () => {
    store = new PouchDbStore({ dataDir: dir, dbName: 'kpi', groupCommit: { maxItems: 100, concurrency: 1 } });
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

  it('takes over the claims an older version kept as PouchDB documents, revisions and all, and removes that database', async () => {
    const oldLocation = path.join(dir, 'kpi-claims');
    const old = new PouchDB(oldLocation);
    await old.bulkDocs([{ _id: 'd:under-way', state: 'claimed', expiresAt: 1 }, { _id: 'b:blob', drain: 'under-way' }]);
    const oldRev = (await old.get('b:blob'))._rev;
    await old.close();

    await open();
    expect((await store!.claims.fetch(['b:blob'])).get('b:blob')).toEqual({ _id: 'b:blob', _rev: oldRev, drain: 'under-way' });
    expect((await store!.claims.fetch(['d:under-way'])).get('d:under-way')).toMatchObject({ state: 'claimed', expiresAt: 1 });
    expect(await store!.claims.write([{ _id: 'b:blob', _rev: oldRev, drain: 'next' }])).toEqual([true]);
    await expect(access(oldLocation)).rejects.toThrow();
  });
});
