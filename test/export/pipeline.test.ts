// The export pipeline's logic against the real service and its real change feed: batching,
// checkpoints past deletions and filtered-out blobs, resuming, stopping. The destination is held
// in memory here; the real ones have their own tests, and export-cli.test.ts runs the whole.
import { KpiggybankClient } from 'kpiggybank-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportConfigSchema, type ExportJobConfig } from '../../src/export/config.js';
import { FeedReader } from '../../src/export/feed-source.js';
import { runJob, type BatchReport, type JobOptions } from '../../src/export/job.js';
import { shapingFor } from '../../src/export/run-export.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { MemoryDestination, Table } from '../support/memory-destination.js';
import { postBlobs } from '../support/post.js';

function jobOf(job: Record<string, unknown>): ExportJobConfig {
  const config = ExportConfigSchema.parse({ exports: [{ name: 'web', destination: { kind: 'duckdb', path: 'unused.duckdb' }, ...job }] });
  return config.exports[0] as ExportJobConfig;
}

describe('the export pipeline', () => {
  let app: TestApp;
  let client: KpiggybankClient;
  beforeAll(async () => {
    app = await startTestApp('memory');
    client = new KpiggybankClient(app.url);
  });
  afterAll(() => app.close());

  /** Every test posts its own blobs, tagged: a job filtered on its tag sees only them. */
  let tagCount = 0;
  const newTag = () => `t${++tagCount}`;
  const post = (tag: string, count: number, extra: (i: number) => object = () => ({})) =>
    postBlobs(
      app.url,
      Array.from({ length: count }, (_, i) => ({ timestamp: 1_700_000_000 + i, tag, n: i, ...extra(i) })),
    );

  function run(job: ExportJobConfig, destination: MemoryDestination, options: Partial<JobOptions> = {}) {
    const reports: BatchReport[] = [];
    const done = runJob({
      job,
      destination,
      shaping: shapingFor(job),
      openFeed: (since, signal) => new FeedReader(client, since, { signal }),
      once: true,
      stop: new AbortController().signal,
      onBatch: (report) => reports.push(report),
      ...options,
    });
    return { done, reports };
  }

  it('with --once, loads every blob once, in batches of max_blobs, and stops at the checkpoint of the last change', async () => {
    const tag = newTag();
    const ids = await post(tag, 25);
    const job = jobOf({ filter: { allow: { field: 'tag', values: [tag] } }, batch: { max_blobs: 10 } });
    const table = new Table();
    const { done, reports } = run(job, new MemoryDestination(table));
    const summary = await done;
    expect(table.rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    // the rows come in the feed's order, 10 at most a batch; the last batch also covers the other tests' changes
    expect(table.batches.slice(0, 2).map((batch) => batch.rows.length)).toEqual([10, 10]);
    expect(reports.every((report) => report.rows <= 10)).toBe(true);
    expect(summary).toMatchObject({ job: 'web', loaded: 25, totalRows: 25, checkpoint: table.checkpoint });
    expect(table.checkpoint).toBe(await app.store.currentSeq());
    expect(table.columns.map((column) => column.name)).toEqual(['tag', 'n']);
  });

  it('resumes from the checkpoint: a second run loads only what came since', async () => {
    const tag = newTag();
    const first = await post(tag, 5);
    const job = jobOf({ filter: { allow: { field: 'tag', values: [tag] } } });
    const table = new Table();
    await run(job, new MemoryDestination(table)).done;
    const second = await post(tag, 3);
    const again = await run(job, new MemoryDestination(table)).done;
    expect(again.loaded).toBe(3);
    expect(table.rows.map((row) => row.id).sort()).toEqual([...first, ...second].sort());
  });

  it('moves the checkpoint past a batch of only deletions, or of only filtered-out blobs', async () => {
    const tag = newTag();
    const ids = await post(tag, 4);
    const job = jobOf({ filter: { allow: { field: 'tag', values: [tag] } } });
    const table = new Table();
    await run(job, new MemoryDestination(table)).done;
    const before = table.checkpoint;
    await app.store.remove(ids);
    await post(newTag(), 2); // another tag: filtered out
    const { done, reports } = run(job, new MemoryDestination(table));
    expect(await done).toMatchObject({ loaded: 0, totalRows: 4 });
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.reduce((sum, report) => sum + report.changes, 0)).toBe(6);
    expect(table.batches.at(-1)?.rows).toEqual([]);
    expect(table.checkpoint).not.toBe(before);
    expect(table.checkpoint).toBe(await app.store.currentSeq());
    expect(table.rows.map((row) => row.id).sort()).toEqual([...ids].sort());
  });

  it('with include_deleted, loads a deletion as a row saying so', async () => {
    const tag = newTag();
    const table = new Table();
    const [id] = await post(tag, 1);
    // the feed of a fresh table starts at 0: only this test's changes count after its own checkpoint
    table.checkpoint = await app.store.currentSeq();
    await app.store.remove([id as string]);
    const job = jobOf({ include_deleted: true });
    await run(job, new MemoryDestination(table)).done;
    expect(table.rows).toEqual([{ id, timestamp: 0, at: new Date(0), cells: [], extra: { _deleted: true } }]);
  });

  it("a failed load moves nothing: the job fails with the destination's error, and a restart loads the batch again", async () => {
    const tag = newTag();
    const ids = await post(tag, 6);
    const job = jobOf({ filter: { allow: { field: 'tag', values: [tag] } }, batch: { max_blobs: 4 } });
    const table = new Table();
    await expect(run(job, new MemoryDestination(table, 2)).done).rejects.toThrow('the disk is full');
    expect(table.rows).toHaveLength(4);
    await run(job, new MemoryDestination(table)).done;
    expect(table.rows.map((row) => row.id).sort()).toEqual([...ids].sort());
  });

  it('follows: a blob posted after the catch-up is loaded within max_delay; stopping loads the batch in hand', async () => {
    const tag = newTag();
    const job = jobOf({ filter: { allow: { field: 'tag', values: [tag] } }, batch: { max_blobs: 1000, max_delay: '100ms' } });
    const table = new Table();
    const stop = new AbortController();
    let caughtUp!: () => void;
    const live = new Promise<void>((resolve) => (caughtUp = resolve));
    let loaded!: (report: BatchReport) => void;
    const firstLoad = new Promise<BatchReport>((resolve) => (loaded = resolve));
    const { done } = run(job, new MemoryDestination(table), {
      once: false,
      stop: stop.signal,
      onCaughtUp: caughtUp,
      onBatch: (report) => report.rows > 0 && loaded(report),
    });
    await live;
    const [id] = await post(tag, 1);
    expect((await firstLoad).rows).toBe(1);
    expect(table.rows.map((row) => row.id)).toEqual([id]);
    stop.abort();
    expect(await done).toMatchObject({ loaded: 1 });
  });
});
