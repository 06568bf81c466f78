// An export behind a drain, against the embedded store (leveldb, in process): the feed keeps a
// drained blob's write for a reader from before it, so the export loads it; a checkpoint older
// than the history the store kept is refused, and the export exits 1 saying so.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelDbStore } from '../../src/store/leveldb/leveldb-store.js';
import { serveApp, type TestApp } from '../support/app.js';
import { until } from '../support/feed-client.js';
import { hasStackTrace, runCli } from '../support/cli.js';
import { postBlobs } from '../support/post.js';
import { withDuckDb } from '../support/duckdb-file.js';

const idsIn = (path: string): Promise<string[]> =>
  withDuckDb(path, async (connection) => (await connection.runAndReadAll('SELECT _id FROM behind ORDER BY _id')).getRowObjectsJS().map((row) => String(row._id)));

const series = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ timestamp: 1_700_000_000 + from + i, n: from + i }));

describe('kpiggybank export behind a drain (leveldb)', () => {
  let dir: string;
  let store: LevelDbStore;
  let app: TestApp;
  let config: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-behind-'));
    // a retention of 100 sequences, trimmed after every removal: a few hundred blobs show both sides
    // of it (a read holds the trim back for 0.1-0.2 s, not 5-10: the hub's follower reads from behind too)
    store = new LevelDbStore({
      dataDir: join(dir, 'data'),
      dbName: 'bid_kpi',
      groupCommit: { maxItems: 500, concurrency: 4 },
      compaction: { retainChanges: 100, everyRemoved: 1, readWindowMs: 100 },
    });
    await store.open();
    app = await serveApp(store, { onClose: () => store.close() });
    config = join(dir, 'export.toml');
    await writeFile(config, `source = { url = "${app.url}" }\n\n[[exports]]\nname = "behind"\ndestination = { kind = "duckdb", path = "behind.duckdb" }\n`);
  });
  afterEach(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads blobs drained after its checkpoint, within the history the store keeps', async () => {
    const first = await postBlobs(app.url, series(0, 30));
    expect((await runCli(['export', '--once', '--config', config])).code).toBe(0);
    const later = await postBlobs(app.url, series(30, 40));
    // a drain's commit of some it has read and some it has not, while no export runs
    expect(await store.remove([...first.slice(0, 10), ...later.slice(0, 25)])).toBe(35);
    const run = await runCli(['export', '--once', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(await idsIn(join(dir, 'behind.duckdb'))).toEqual([...first, ...later].sort());
  });

  it('exits 1 naming the trimmed history when its checkpoint is older than what the store kept', async () => {
    const first = await postBlobs(app.url, series(0, 50));
    expect((await runCli(['export', '--once', '--config', config])).code).toBe(0);
    const later = await postBlobs(app.url, series(50, 300));
    expect(await store.remove([...first, ...later])).toBe(350);
    // an empty store's trim held back by a read is tried again every readWindowMs
    await until(() => store.compaction.logFloor > 50, 10_000, 'the trim past the export checkpoint');
    const run = await runCli(['export', '--once', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused the checkpoint "50": it is older than the change history the service kept/);
    expect(hasStackTrace(run.stderr)).toBe(false);
  });
});
