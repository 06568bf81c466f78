// The DuckDB destination against real DuckDB files in a temporary folder: tables and types,
// added columns, reopening, a failed batch, two jobs in one file, a second process on the same
// file, and kill -9s of a loading process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Json } from '@duckdb/node-api';
import type { StoredBlob } from 'kpiggybank-client/wire';
import { afterAll, describe, expect, it } from 'vitest';
import { type Batch, type Column, DestinationError, type Row } from '../../src/export/destination.js';
import { createDuckDbDestination, type DuckDbFaults } from '../../src/export/duckdb/duckdb-destination.js';
import { RowShaper } from '../../src/export/row-shape.js';
import { withDuckDb } from '../support/duckdb-file.js';

const dir = mkdtempSync(join(tmpdir(), 'kpiggybank-duckdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshFile = () => join(dir, `export-${++files}.duckdb`);

const destination = (path: string, job = 'events', faults: DuckDbFaults = {}, table?: string) =>
  createDuckDbDestination({ kind: 'duckdb', path, ...(table === undefined ? {} : { table }) }, job, faults);

/** Reads the file with an instance of its own (the destination must be closed: DuckDB wants one writer per file). */
const query = (path: string, sql: string): Promise<Record<string, Json>[]> => withDuckDb(path, async (connection) => (await connection.runAndReadAll(sql)).getRowObjectsJson());

const failure = async (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );

const row = (id: string, ms: number, cells: Row['cells'] = [], extra: Row['extra'] = null): Row => ({ id, timestamp: ms, at: new Date(ms), cells, extra });

/** Shapes blobs as the pipeline does (real row-shape), into one batch. */
function shapedBatch(shaper: RowShaper, blobs: StoredBlob[], seq: string): Batch {
  const rows = blobs.map((blob) => shaper.shape(blob));
  return { columns: shaper.seal(rows), rows, seq };
}

describe('the DuckDB destination', () => {
  it('creates the table and the sync table in a new file, and a new job starts with no checkpoint', async () => {
    const path = freshFile();
    const events = destination(path);
    expect(await events.open()).toEqual({ checkpoint: undefined, columns: [], rows: 0 });
    await events.close();
    const columns = await query(path, `SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() WHERE NOT internal ORDER BY table_name, column_index`);
    expect(columns).toEqual([
      { table_name: 'events', column_name: '_id', data_type: 'VARCHAR', is_nullable: false },
      { table_name: 'events', column_name: 'timestamp', data_type: 'BIGINT', is_nullable: false },
      { table_name: 'events', column_name: 'at', data_type: 'TIMESTAMP WITH TIME ZONE', is_nullable: false },
      { table_name: 'events', column_name: 'extra', data_type: 'JSON', is_nullable: true },
      { table_name: 'kpiggybank_sync', column_name: 'job', data_type: 'VARCHAR', is_nullable: false },
      { table_name: 'kpiggybank_sync', column_name: 'seq', data_type: 'VARCHAR', is_nullable: true },
      { table_name: 'kpiggybank_sync', column_name: 'rows', data_type: 'BIGINT', is_nullable: false },
      { table_name: 'kpiggybank_sync', column_name: 'updated_at', data_type: 'TIMESTAMP WITH TIME ZONE', is_nullable: false },
    ]);
    expect(await query(path, 'SELECT job, seq, rows FROM kpiggybank_sync')).toEqual([{ job: 'events', seq: null, rows: '0' }]);
  });

  it('loads every type as its own DuckDB type: text, bigint past 2^53, double, boolean, timestamptz, json, and extra', async () => {
    const path = freshFile();
    const events = destination(path);
    const state = await events.open();
    const shaper = new RowShaper(
      {
        name: 'events',
        infer: true,
        columns: { browser: { path: 'user_agent.browser', type: 'text' }, seen: { type: 'timestamptz' }, props: { type: 'json' }, big: { type: 'bigint' } },
      },
      state.columns,
    );
    const blobs: StoredBlob[] = [
      {
        _id: 'a',
        timestamp: 1_764_670_000,
        user_agent: { browser: 'Firefox', os: 'Linux' },
        seen: '2026-12-02T10:00:00.123+01:00',
        props: { nested: [1, 'two'] },
        big: 2 ** 60,
        ratio: 0.25,
        ok: true,
        name: 'O\'Brien "quoted"\nnewline ünïcødé',
      },
      { _id: 'b', timestamp: 1_764_670_000_123, user_agent: { browser: 42 }, big: 7, ratio: 1, ok: false, name: "=cmd|' /C calc'!A0", props: 'just text' },
    ];
    await events.load(shapedBatch(shaper, blobs, '2'));
    await events.close();
    const types = await query(
      path,
      `SELECT typeof(browser) AS browser, typeof(seen) AS seen, typeof(props) AS props, typeof(big) AS big, typeof(ratio) AS ratio, typeof(ok) AS ok, typeof(name) AS name FROM events LIMIT 1`,
    );
    expect(types).toEqual([{ browser: 'VARCHAR', seen: 'TIMESTAMP WITH TIME ZONE', props: 'JSON', big: 'BIGINT', ratio: 'DOUBLE', ok: 'BOOLEAN', name: 'VARCHAR' }]);
    const rows = await query(
      path,
      `SELECT _id, "timestamp", epoch_ms("at") AS at_ms, browser, epoch_ms(seen) AS seen_ms, props, big::VARCHAR AS big, ratio, ok, name, extra FROM events ORDER BY _id`,
    );
    expect(rows).toEqual([
      {
        _id: 'a',
        timestamp: '1764670000',
        at_ms: '1764670000000',
        browser: 'Firefox',
        seen_ms: String(Date.parse('2026-12-02T10:00:00.123+01:00')),
        props: '{"nested":[1,"two"]}',
        big: '1152921504606846976',
        ratio: 0.25,
        ok: true,
        name: 'O\'Brien "quoted"\nnewline ünïcødé',
        extra: '{"user_agent":{"os":"Linux"}}',
      },
      {
        _id: 'b',
        timestamp: '1764670000123',
        at_ms: '1764670000123',
        // 42 is not text: it goes to extra, as it was.
        browser: null,
        seen_ms: null,
        props: '"just text"',
        big: '7',
        ratio: 1,
        ok: false,
        name: "=cmd|' /C calc'!A0",
        extra: '{"user_agent":{"browser":42}}',
      },
    ]);
    // JSON is queryable as JSON: the analyst's ->> works on extra and props.
    expect(await query(path, `SELECT extra->>'$.user_agent.os' AS os FROM events WHERE _id = 'a'`)).toEqual([{ os: 'Linux' }]);
  });

  it('adds the columns new in a batch as nullable, in the same transaction, and a reopen returns checkpoint, columns and rows', async () => {
    const path = freshFile();
    const first = destination(path);
    await first.open();
    const lang: Column = { name: 'lang', path: ['lang'], type: 'text' };
    const ms = Date.UTC(2026, 11, 2);
    await first.load({ columns: [lang], rows: [row('1', ms, ['en'])], seq: '10' });
    const n: Column = { name: 'n', path: ['n'], type: 'bigint' };
    const when: Column = { name: 'When', path: ['When'], type: 'timestamptz' };
    await first.load({ columns: [lang, n, when], rows: [row('2', ms + 1, ['fr', 3, new Date(ms)])], seq: '12' });
    // A batch with no rows (all filtered out) still moves the checkpoint.
    await first.load({ columns: [lang, n, when], rows: [], seq: '15' });
    await first.close();
    const again = destination(path);
    expect(await again.open()).toEqual({
      checkpoint: '15',
      columns: [lang, n, { name: 'When', path: ['When'], type: 'timestamptz' }],
      rows: 2,
    });
    // The table's order: the added columns come after extra (DuckDB adds at the end); rows follow it.
    const ok: Column = { name: 'ok', path: ['ok'], type: 'boolean' };
    await again.load({ columns: [lang, n, when, ok], rows: [row('3', ms + 2, [null, 9, null, true], { x: 1 })], seq: '16' });
    await again.close();
    expect(await query(path, `SELECT column_name FROM duckdb_columns() WHERE table_name = 'events' ORDER BY column_index`)).toEqual(
      ['_id', 'timestamp', 'at', 'extra', 'lang', 'n', 'When', 'ok'].map((column_name) => ({ column_name })),
    );
    expect(await query(path, `SELECT _id, lang, n, epoch_ms("When") AS w, ok, extra FROM events ORDER BY _id`)).toEqual([
      { _id: '1', lang: 'en', n: null, w: null, ok: null, extra: null },
      { _id: '2', lang: 'fr', n: '3', w: String(ms), ok: null, extra: null },
      { _id: '3', lang: null, n: '9', w: null, ok: true, extra: '{"x":1}' },
    ]);
    expect(await query(path, `SELECT seq, rows FROM kpiggybank_sync WHERE job = 'events'`)).toEqual([{ seq: '16', rows: '3' }]);
  });

  it('a batch that fails before COMMIT leaves nothing: no row, no column, the checkpoint where it was', async () => {
    const path = freshFile();
    let fail = false;
    const events = destination(path, 'events', {
      beforeCommit: () => {
        if (fail) throw new Error('injected: the disk went away');
      },
    });
    await events.open();
    const lang: Column = { name: 'lang', path: ['lang'], type: 'text' };
    await events.load({ columns: [lang], rows: [row('1', 1_000, ['en'])], seq: '1' });
    fail = true;
    const added: Column = { name: 'added', path: ['added'], type: 'double' };
    const error = await failure(events.load({ columns: [lang, added], rows: [row('2', 2_000, ['de', 1.5]), row('3', 3_000, ['it', 2.5])], seq: '3' }));
    expect(error).toBeInstanceOf(DestinationError);
    expect(error.message).toBe(`cannot load 2 rows (up to seq 3) into table events of DuckDB file ${path}: injected: the disk went away`);
    // The same destination can load again: the failed transaction was rolled back, not left open.
    fail = false;
    await events.load({ columns: [lang], rows: [row('4', 4_000, ['es'])], seq: '4' });
    await events.close();
    expect(await query(path, 'SELECT _id FROM events ORDER BY _id')).toEqual([{ _id: '1' }, { _id: '4' }]);
    expect(await query(path, `SELECT count(*) AS n FROM duckdb_columns() WHERE table_name = 'events' AND column_name = 'added'`)).toEqual([{ n: '0' }]);
    expect(await query(path, 'SELECT seq, rows FROM kpiggybank_sync')).toEqual([{ seq: '4', rows: '2' }]);
  });

  it('a cell of the wrong kind for its column fails the batch with the column named, and loads nothing', async () => {
    const path = freshFile();
    const events = destination(path);
    await events.open();
    const n: Column = { name: 'n', path: ['n'], type: 'bigint' };
    const error = await failure(events.load({ columns: [n], rows: [row('1', 1_000, [1]), row('2', 2_000, ['two'])], seq: '2' }));
    expect(error.message).toBe(`cannot load 2 rows (up to seq 2) into table events of DuckDB file ${path}: column "n" (bigint) was given string "two"`);
    await events.close();
    expect(await query(path, 'SELECT count(*) AS n FROM events')).toEqual([{ n: '0' }]);
  });

  it('several jobs share one file (one instance, their loads one at a time), each with its table and checkpoint', async () => {
    const path = freshFile();
    const clicks = destination(path, 'clicks');
    const views = destination(path, 'views', {}, 'page_views');
    await Promise.all([clicks.open(), views.open()]);
    const loads: Promise<void>[] = [];
    for (let seq = 1; seq <= 5; seq++) {
      loads.push(clicks.load({ columns: [], rows: [row(`c${seq}`, seq)], seq: String(seq) }));
      loads.push(views.load({ columns: [], rows: [row(`v${seq}`, seq), row(`w${seq}`, seq)], seq: String(seq * 10) }));
    }
    await Promise.all(loads);
    await clicks.close();
    // The file stays open for the other job.
    await views.load({ columns: [], rows: [], seq: '60' });
    await views.close();
    expect(await query(path, 'SELECT job, seq, rows FROM kpiggybank_sync ORDER BY job')).toEqual([
      { job: 'clicks', seq: '5', rows: '5' },
      { job: 'views', seq: '60', rows: '10' },
    ]);
    expect(await query(path, 'SELECT (SELECT count(*) FROM clicks) AS clicks, (SELECT count(*) FROM page_views) AS views')).toEqual([{ clicks: '5', views: '10' }]);
  });

  it('refuses to load into the sync table', async () => {
    const error = await failure(destination(freshFile(), 'events', {}, 'KPIGGYBANK_SYNC').open());
    expect(error.message).toBe('export "events": table kpiggybank_sync holds the checkpoints: load into another table');
  });

  it('a second process opening a file this one loads into gets one clear line, and exits non-zero', async () => {
    const path = freshFile();
    const events = destination(path);
    await events.open();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/duckdb-loader.ts', path, '1', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(stderr).toBe(
        `cannot open DuckDB file ${path}: another process (PID ${process.pid}) has it open, and DuckDB lets one process write a file at a time: stop that process (another exporter?), or give this export another path\n`,
      );
    } finally {
      await events.close();
    }
  });

  it('after kill -9s of the loading process (at random moments, and once between the rows and COMMIT) and restarts, holds each id exactly once', async () => {
    const path = freshFile();
    const batches = 40;
    const perBatch = 2_000;
    const runLoader = async (killAfter: number | undefined, killAt?: number): Promise<number> => {
      const args = ['--import', 'tsx', 'test/support/duckdb-loader.ts', path, String(batches), String(perBatch), ...(killAt === undefined ? [] : [String(killAt)])];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      let loaded = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        if (!line.startsWith('loaded ')) continue;
        loaded = Number(line.slice('loaded '.length));
        if (killAfter !== undefined && loaded >= killAfter) {
          // Somewhere in the next load: its chunks, the append, the COMMIT, or DuckDB's checkpoint of the WAL.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
          child.kill('SIGKILL');
          break;
        }
      }
      const end = await exited;
      if (killAfter === undefined && killAt === undefined) expect(end).toBe(0);
      else expect(end).toBe('SIGKILL');
      return loaded;
    };
    // Killed inside batch 3's transaction: batches 1 and 2 stand, and 3 is loaded again, once.
    expect(await runLoader(undefined, 3)).toBe(2);
    expect(await query(path, 'SELECT seq, rows FROM kpiggybank_sync')).toEqual([{ seq: '2', rows: String(2 * perBatch) }]);
    let reached = 2;
    for (let kill = 0; kill < 5; kill++) reached = await runLoader(reached + 1 + Math.floor(Math.random() * 5));
    expect(reached).toBeLessThan(batches);
    await runLoader(undefined);
    expect(await query(path, 'SELECT count(*) AS n, count(DISTINCT _id) AS ids, min(n) AS first, max(n) AS last FROM events')).toEqual([
      { n: String(batches * perBatch), ids: String(batches * perBatch), first: '1', last: String(batches) },
    ]);
    expect(await query(path, 'SELECT seq, rows FROM kpiggybank_sync')).toEqual([{ seq: String(batches), rows: String(batches * perBatch) }]);
  }, 120_000);
});
