import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import { serveApp, type TestApp } from './support/app.js';
import { expectStoreUnavailable, fillAllBut4Mb, mountTmpfs, postUntilRefused, postUntilStored, storedIds, unmountTmpfs } from './support/full-disk.js';

const groupCommit = { maxItems: 500, concurrency: 1 };

/*
 * DATA_DIR's file system fills while LevelDB writes, after which it refuses every write until
 * reopened (WriteRecovery). Where a tmpfs cannot be mounted, this is skipped.
 */
const { mountPoint, refused: mountRefused } = await mountTmpfs('kpiggybank-leveldb-full-');

describe.skipIf(mountRefused !== undefined)(`the leveldb store on a file system that fills up${mountRefused ? ` (skipped: ${mountRefused})` : ''}`, () => {
  let store: LevelDbStore;
  let t: TestApp;
  const fill = path.join(mountPoint, 'fill');
  beforeAll(async () => {
    store = new LevelDbStore({ dataDir: path.join(mountPoint, 'data'), dbName: 'bid_kpi', groupCommit });
    await store.open();
    t = await serveApp(store, { onClose: () => store.close() });
  });
  afterAll(async () => {
    await t?.close();
    await unmountTmpfs(mountPoint);
  });

  it('answers 503 and is not ready while full, takes writes again by itself once space is back, and keeps every acknowledged blob and its count', { timeout: 30_000 }, async () => {
    await fillAllBut4Mb(mountPoint, fill);
    const { acknowledged, refused } = await postUntilRefused(t.url);
    expect(refused, 'the file system never filled').toBeDefined();
    await expectStoreUnavailable(refused!);
    const ready = await fetch(`${t.url}${Routes.readyz}`);
    expect(ready.status).toBe(503);
    // reads go on meanwhile: the database stays open until there is room to reopen it
    expect(await (await fetch(`${t.url}${Routes.count}`)).json()).toBe(acknowledged.length);

    await rm(fill);
    const [after] = await postUntilStored(t.url, { timestamp: 1_800_000_000, after: 'space came back' }, 10_000);
    expect((await fetch(`${t.url}${Routes.readyz}`)).status).toBe(200);
    const ids = await storedIds(t.url);
    expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
    expect(ids.has(after!)).toBe(true);
    expect(await store.count()).toBe(ids.size); // the meta counter matches what is stored
  });
});
