import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, IngestResponseSchema, RangeResponseSchema } from 'kpiggybank-client/wire';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import { serveApp, type TestApp } from './support/app.js';

const groupCommit = { maxItems: 500, concurrency: 1 };
const pad = 'x'.repeat(1000);

const post = (url: string, blobs: object[]) =>
  fetch(`${url}/wsapi/interaction_data`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(blobs) });

async function expectStoreUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(ErrorBodySchema.parse(await res.json()).error).toBe('store_unavailable');
}

/*
 * DATA_DIR's file system fills while LevelDB writes, after which it refuses every write until
 * reopened (WriteRecovery). A tmpfs needs mount(2) (root, or CAP_SYS_ADMIN): where that is
 * refused, this is skipped.
 */
const mountPoint = await mkdtemp(path.join(tmpdir(), 'kpiggybank-leveldb-full-'));
const mountRefused = ((): string | undefined => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here: ${(error as { stderr?: Buffer }).stderr?.toString().trim() || String(error)}`;
  }
})();
if (mountRefused) await rm(mountPoint, { recursive: true });

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
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('answers 503 and is not ready while full, takes writes again by itself once space is back, and keeps every acknowledged blob and its count', { timeout: 30_000 }, async () => {
    const { bavail, bsize } = await statfs(mountPoint);
    await writeFile(fill, new Uint8Array(bavail * bsize - 4 * 1024 * 1024));

    const acknowledged: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 2000 && !refused; i++) {
      const res = await post(t.url, Array.from({ length: 20 }, (_, k) => ({ timestamp: 1_700_000_000 + i, k, pad })));
      if (res.status === 201) acknowledged.push(...IngestResponseSchema.parse(await res.json()).ids);
      else refused = res;
    }
    expect(refused, 'the file system never filled').toBeDefined();
    await expectStoreUnavailable(refused!);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    // reads go on meanwhile: the database stays open until there is room to reopen it
    expect(await (await fetch(`${t.url}/wsapi/interaction_data/count`)).json()).toBe(acknowledged.length);

    await rm(fill);
    const deadline = Date.now() + 10_000;
    let after: string | undefined;
    while (!after) {
      const res = await post(t.url, [{ timestamp: 1_800_000_000, after: 'space came back' }]);
      if (res.status === 201) [after] = IngestResponseSchema.parse(await res.json()).ids;
      else await expectStoreUnavailable(res); // until then, 503 and never anything else
      if (!after && Date.now() > deadline) throw new Error('the store did not take a write within 10 s of the space coming back');
      if (!after) await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const blobs = RangeResponseSchema.parse(await (await fetch(`${t.url}/wsapi/interaction_data?shape=blobs`)).json());
    const ids = new Set(blobs.map((blob) => blob._id));
    expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
    expect(ids.has(after)).toBe(true);
    expect(await store.count()).toBe(blobs.length); // the meta counter matches what is stored
  });
});
