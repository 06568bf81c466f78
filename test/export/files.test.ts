import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, Cell, Column, Row } from '../../src/export/destination.js';
import { createFilesDestination, type FilesOptions } from '../../src/export/files/files-destination.js';
import { FaultyFileSystem } from '../support/faulty-file-system.js';
import { ndjsonIds, partFiles, view } from '../support/files-reading.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 2, 9, 0, 0); // 2026-12-02T09:00Z

let root: string;
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'kpiggybank-files-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshDir = () => path.join(root, `job-${++count}`, 'out');

function options(dir: string, more: Partial<FilesOptions> = {}): FilesOptions {
  return { kind: 'files', dir, format: 'ndjson', gzip: false, ...more };
}

function row(id: string, atMs: number, cells: Cell[] = [], extra: Row['extra'] = null): Row {
  return { id, timestamp: atMs, at: new Date(atMs), cells, extra };
}

const BROWSER: Column = { name: 'browser', path: ['user_agent', 'browser'], type: 'text' };
const N: Column = { name: 'n', path: ['n'], type: 'bigint' };

describe('the files destination', () => {
  it('NDJSON: one object per row, _id, timestamp, at (ISO), the columns in order (null when absent), extra', async () => {
    const dir = freshDir();
    const columns: Column[] = [
      BROWSER,
      N,
      { name: 'ok', path: ['ok'], type: 'boolean' },
      { name: 'seen', path: ['seen'], type: 'timestamptz' },
      { name: 'tags', path: ['tags'], type: 'json' },
      { name: 'x', path: ['x'], type: 'double' },
    ];
    const destination = createFilesDestination(options(dir), 'events');
    expect(await destination.open()).toEqual({ checkpoint: undefined, columns: [], rows: 0 });
    await destination.load({
      columns,
      seq: '7',
      rows: [row('a', T0, ['Firefox', 3, true, new Date(T0 + 1000), '["x",{"y":1}]', 0.5], { note: 'say "hi"' }), row('b', 1_700_000_000, [null, null, null, null, null, null])],
    });
    await destination.close();
    const files = await partFiles(dir);
    expect([...files.keys()]).toEqual(['part-000001.ndjson']);
    expect(files.get('part-000001.ndjson')).toBe(
      '{"_id":"a","timestamp":1796202000000,"at":"2026-12-02T09:00:00.000Z","browser":"Firefox","n":3,"ok":true,"seen":"2026-12-02T09:00:01.000Z","tags":["x",{"y":1}],"x":0.5,"extra":{"note":"say \\"hi\\""}}\n' +
        '{"_id":"b","timestamp":1700000000,"at":"1970-01-20T16:13:20.000Z","browser":null,"n":null,"ok":null,"seen":null,"tags":null,"x":null,"extra":null}\n',
    );
    for (const line of (files.get('part-000001.ndjson') ?? '').trim().split('\n')) JSON.parse(line);
    const again = createFilesDestination(options(dir), 'events');
    expect(await again.open()).toEqual({ checkpoint: '7', columns, rows: 2 });
  });

  it('CSV: RFC 4180, a header of the columns, formulas neutralised (=, +, -, @, tab, CR), numbers left as numbers', async () => {
    const dir = freshDir();
    const destination = createFilesDestination(options(dir, { format: 'csv' }), 'events');
    await destination.open();
    const cells = (text: string): Cell[] => [text, -5];
    await destination.load({
      columns: [BROWSER, N],
      seq: '3',
      rows: [
        row('cmd', T0, cells("=cmd|' /C calc'!A0")),
        row('plus', T0, cells('+1+1')),
        row('minus', T0, cells('-2+3')),
        row('at', T0, cells('@SUM(1)')),
        row('tab', T0, cells('\t=1')),
        row('cr', T0, cells('\r=1')),
        row('quote', T0, ['say "hi", then\ngo', null], { '=k': '=v' }),
        row('=id', T0, [null, null]),
      ],
    });
    const files = await partFiles(dir);
    expect(files.get('part-000001.csv')).toBe(
      [
        '_id,timestamp,at,browser,n,extra',
        `cmd,1796202000000,2026-12-02T09:00:00.000Z,'=cmd|' /C calc'!A0,-5,`,
        `plus,1796202000000,2026-12-02T09:00:00.000Z,'+1+1,-5,`,
        `minus,1796202000000,2026-12-02T09:00:00.000Z,'-2+3,-5,`,
        `at,1796202000000,2026-12-02T09:00:00.000Z,'@SUM(1),-5,`,
        `tab,1796202000000,2026-12-02T09:00:00.000Z,'\t=1,-5,`,
        `cr,1796202000000,2026-12-02T09:00:00.000Z,"'\r=1",-5,`,
        `quote,1796202000000,2026-12-02T09:00:00.000Z,"say ""hi"", then\ngo",,"{""=k"":""=v""}"`,
        `'=id,1796202000000,2026-12-02T09:00:00.000Z,,,`,
        '',
      ].join('\r\n'),
    );
  });

  it('CSV: a column that appears later is in the header of the later parts; a written file never changes', async () => {
    const dir = freshDir();
    const destination = createFilesDestination(options(dir, { format: 'csv' }), 'events');
    await destination.open();
    await destination.load({ columns: [BROWSER], seq: '1', rows: [row('a', T0, ['Chrome'])] });
    const first = await partFiles(dir);
    await destination.load({ columns: [BROWSER, N], seq: '2', rows: [row('b', T0, ['Safari', 9])] });
    const files = await partFiles(dir);
    expect(files.get('part-000001.csv')).toBe(first.get('part-000001.csv'));
    expect(files.get('part-000001.csv')).toBe('_id,timestamp,at,browser,extra\r\na,1796202000000,2026-12-02T09:00:00.000Z,Chrome,\r\n');
    expect(files.get('part-000002.csv')).toBe('_id,timestamp,at,browser,n,extra\r\nb,1796202000000,2026-12-02T09:00:00.000Z,Safari,9,\r\n');
  });

  it('gzip: each part is a gzip file zlib reads', async () => {
    for (const format of ['ndjson', 'csv'] as const) {
      const dir = freshDir();
      const destination = createFilesDestination(options(dir, { format, gzip: true }), 'events');
      await destination.open();
      await destination.load({ columns: [], seq: '1', rows: [row('a', T0), row('b', T0)] });
      const names = await readdir(dir);
      const name = `part-000001.${format}.gz`;
      expect(names).toContain(name);
      const text = gunzipSync(view(await readFile(path.join(dir, name)))).toString('utf8');
      expect(text.split(/\r?\n/).filter(Boolean)).toHaveLength(format === 'csv' ? 3 : 2);
    }
  });

  it('windows: a folder per window of blob time; rows a later batch brings for a written window go into a new part of it', async () => {
    const dir = freshDir();
    const destination = createFilesDestination(options(dir, { window: '1h' }), 'events');
    await destination.open();
    await destination.load({ columns: [], seq: '1', rows: [row('a', T0 + 10), row('b', T0 + HOUR), row('c', T0 + 59 * 60_000)] });
    await destination.load({ columns: [], seq: '2', rows: [row('d', T0 + 5)] });
    const files = await partFiles(dir);
    const ids = (name: string) =>
      (files.get(name) ?? '')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { _id: string })._id);
    expect([...files.keys()]).toEqual(['2026-12-02T09/part-000001.ndjson', '2026-12-02T09/part-000003.ndjson', '2026-12-02T10/part-000002.ndjson']);
    expect(ids('2026-12-02T09/part-000001.ndjson')).toEqual(['a', 'c']);
    expect(ids('2026-12-02T10/part-000002.ndjson')).toEqual(['b']);
    expect(ids('2026-12-02T09/part-000003.ndjson')).toEqual(['d']);

    const days = freshDir();
    const daily = createFilesDestination(options(days, { window: '1d', max_blobs: 2 }), 'events');
    await daily.open();
    await daily.load({ columns: [], seq: '1', rows: ['a', 'b', 'c'].map((id) => row(id, T0)).concat(row('z', T0 - 24 * HOUR)) });
    expect([...(await partFiles(days)).keys()]).toEqual(['2026-12-01/part-000003.ndjson', '2026-12-02/part-000001.ndjson', '2026-12-02/part-000002.ndjson']);

    const quarters = freshDir();
    const quarterly = createFilesDestination(options(quarters, { window: '15m' }), 'events');
    await quarterly.open();
    await quarterly.load({ columns: [], seq: '1', rows: [row('a', T0 + 20 * 60_000)] });
    expect([...(await partFiles(quarters)).keys()]).toEqual(['2026-12-02T0915/part-000001.ndjson']);
  });

  it('max_blobs without a window: parts of at most that many rows; an empty batch moves the checkpoint and writes no file', async () => {
    const dir = freshDir();
    const destination = createFilesDestination(options(dir, { max_blobs: 2 }), 'events');
    await destination.open();
    await destination.load({ columns: [], seq: '1', rows: ['a', 'b', 'c', 'd', 'e'].map((id) => row(id, T0)) });
    await destination.load({ columns: [], seq: '9', rows: [] });
    expect([...(await partFiles(dir)).keys()]).toEqual(['part-000001.ndjson', 'part-000002.ndjson', 'part-000003.ndjson']);
    expect(await ndjsonIds(dir)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await createFilesDestination(options(dir), 'events').open()).toMatchObject({ checkpoint: '9', rows: 5 });
  });

  it("refuses another job's folder and a checkpoint file that is not one, in one line naming the file", async () => {
    const dir = freshDir();
    await createFilesDestination(options(dir), 'events').open();
    await expect(createFilesDestination(options(dir), 'signups').open()).rejects.toThrow(/holds the files of export job "events", not "signups"/);
    const used = freshDir();
    await createFilesDestination(options(used), 'events').open();
    await writeFile(path.join(used, 'notes.txt'), 'mine');
    await rm(path.join(used, '_checkpoint.json'));
    await expect(createFilesDestination(options(used), 'events').open()).rejects.toThrow(/holds files \(notes\.txt\) but no _checkpoint\.json/);
    await writeFile(path.join(dir, '_checkpoint.json'), '{"version":1}');
    await expect(createFilesDestination(options(dir), 'events').open()).rejects.toThrow(/_checkpoint\.json is not an export checkpoint/);
    await expect(createFilesDestination(options(dir), 'events').load({ columns: [], seq: '1', rows: [] })).rejects.toThrow(/before open/);
  });
});

describe('the files destination across a crash between any two file-system calls', () => {
  // Four batches: two windows each, one batch empty, one bringing rows for an hour already written.
  const batches: Batch[] = [
    { columns: [BROWSER], seq: '10', rows: [row('a1', T0), row('a2', T0 + HOUR), row('a3', T0 + 1)].map((r) => ({ ...r, cells: ['x'] })) },
    { columns: [BROWSER, N], seq: '20', rows: [row('b1', T0 + 2 * HOUR, ['y', 1]), row('b2', T0 + 2, ['z', 2])] },
    { columns: [BROWSER, N], seq: '30', rows: [] },
    { columns: [BROWSER, N], seq: '40', rows: [row('d1', T0 + 3, ['w', 3]), row('d2', T0 + HOUR + 1, [null, 4]), row('d3', T0 + 3 * HOUR, [null, null])] },
  ];
  const idsUpTo = (checkpoint: string | undefined) =>
    batches.filter((b) => checkpoint !== undefined && Number(b.seq) <= Number(checkpoint)).flatMap((b) => b.rows.map((r) => r.id));
  const all = idsUpTo('40');

  /** Opens (on `fs`) and loads every batch past the checkpoint; false when `fs` crashed on the way. */
  async function run(dir: string, format: 'ndjson' | 'csv', fs: FaultyFileSystem): Promise<boolean> {
    const destination = createFilesDestination(options(dir, { window: '1h', format, max_blobs: 2 }), 'events', fs);
    try {
      const state = await destination.open();
      for (const batch of batches) if (state.checkpoint === undefined || Number(batch.seq) > Number(state.checkpoint)) await destination.load(batch);
      return true;
    } catch (error) {
      if (!fs.crashed) throw error;
      await fs.release();
      return false;
    }
  }

  async function idsIn(dir: string, format: 'ndjson' | 'csv'): Promise<string[]> {
    if (format === 'ndjson') return ndjsonIds(dir);
    const ids: string[] = [];
    for (const text of (await partFiles(dir)).values()) for (const line of text.split('\r\n').slice(1)) if (line !== '') ids.push(line.split(',')[0] as string);
    return ids;
  }

  for (const format of ['ndjson', 'csv'] as const)
    it(`${format}: crashed at call N for every N (and its recovery crashed at every call M), open() finds the old state or the new one, and the reload holds every row once`, {
      timeout: 120_000,
    }, async () => {
      let scenarios = 0;
      for (let n = 1; ; n++) {
        const dir = freshDir();
        if (await run(dir, format, new FaultyFileSystem(n))) break; // n is past the last call: every point has been tried
        // The recovery is killed too: at its 1st call, then (where that left things) its 2nd, … until one open() completes.
        for (let m = 1; ; m++) {
          const fs = new FaultyFileSystem(m);
          try {
            await createFilesDestination(options(dir, { window: '1h', format }), 'events', fs).open();
            break;
          } catch (error) {
            if (!fs.crashed) throw error;
            await fs.release();
          }
        }
        const recovered = await createFilesDestination(options(dir, { window: '1h', format }), 'events').open();
        expect([undefined, ...batches.map((b) => b.seq)], `crash at ${n}`).toContain(recovered.checkpoint);
        expect((await idsIn(dir, format)).sort(), `crash at ${n}: the files hold exactly the rows the checkpoint covers`).toEqual(idsUpTo(recovered.checkpoint).sort());
        expect(await readdir(path.join(dir, '_staging')), `crash at ${n}`).toEqual([]);
        expect(await run(dir, format, new FaultyFileSystem(Number.POSITIVE_INFINITY))).toBe(true);
        const state = await createFilesDestination(options(dir, { window: '1h', format }), 'events').open();
        expect(state, `crash at ${n}`).toMatchObject({ checkpoint: '40', rows: all.length });
        expect((await idsIn(dir, format)).sort(), `crash at ${n}: every row once`).toEqual([...all].sort());
        scenarios++;
      }
      expect(scenarios).toBeGreaterThan(40);
    });
});
