// The PostgreSQL destination against a real server: a throwaway cluster this file starts
// (harness/postgres.ts), or POSTGRES_URL's. Each test works in a schema of its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type RunningPostgres } from '../../harness/postgres.js';
import { freePort } from '../../src/loadtest/free-port.js';
import { type Column, DestinationError, type Row } from '../../src/export/destination.js';
import { createPostgresDestination, type PostgresOptions } from '../../src/export/postgres/postgres-destination.js';
import { pgTimestamp } from '../../src/export/postgres/pg-timestamp.js';

let server: RunningPostgres;
let admin: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
}, 60_000);

afterAll(async () => {
  // A POSTGRES_URL server outlives the run: leave it as it was.
  for (const schema of schemas) await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
  await server?.stop();
});

const schemas: string[] = [];
const freshSchema = () => {
  const schema = `kpiggybank_test_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  return schema;
};
const options = (schema: string, more: Partial<PostgresOptions> = {}): PostgresOptions => ({
  kind: 'postgres',
  url: server.url,
  schema,
  table: 'events',
  partition_days: 7,
  sync_table: 'kpiggybank_sync',
  ...more,
});
const row = (id: string, at: string, cells: Row['cells'] = [], extra: Row['extra'] = null): Row => ({ id, timestamp: Date.parse(at), at: new Date(at), cells, extra });
const count = async (sql: string, values: unknown[] = []) => Number((await admin.query<{ n: string }>(sql, values)).rows[0]?.n);

describe('the PostgreSQL destination', () => {
  it('creates a table partitioned by at, a partition per partition_days days on demand, and the sync table', async () => {
    const schema = freshSchema();
    const destination = createPostgresDestination(options(schema), 'signins');
    expect(await destination.open()).toEqual({ checkpoint: undefined, columns: [], rows: 0 });
    // Weeks start on Mondays: 2026-01-01 is a Thursday, in the week of Monday 2025-12-29.
    await destination.load({ columns: [], rows: [row('a', '2026-01-01T00:00:00Z'), row('b', '2026-01-01T12:00:00Z'), row('c', '2026-01-09T00:00:00Z')], seq: '3' });
    await destination.close();
    const tree = await admin.query<{ relid: string; isleaf: boolean; level: number }>(`SELECT relid::text, isleaf, level FROM pg_partition_tree($1) ORDER BY relid::text`, [
      `${schema}.events`,
    ]);
    expect(tree.rows).toEqual([
      { relid: `${schema}.events`, isleaf: false, level: 0 },
      { relid: `${schema}.events_p20251229`, isleaf: true, level: 1 },
      { relid: `${schema}.events_p20260105`, isleaf: true, level: 1 },
    ]);
    const bounds = await admin.query<{ bound: string }>(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
      [`${schema}.events`],
    );
    expect(bounds.rows.map((b) => b.bound)).toEqual([
      "FOR VALUES FROM ('2025-12-29 00:00:00+00') TO ('2026-01-05 00:00:00+00')",
      "FOR VALUES FROM ('2026-01-05 00:00:00+00') TO ('2026-01-12 00:00:00+00')",
    ]);
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events_p20251229`)).toBe(2);
    const sync = await admin.query(`SELECT job, seq, rows FROM ${schema}.kpiggybank_sync`);
    expect(sync.rows).toEqual([{ job: 'signins', seq: '3', rows: '3' }]);
  });

  it('gives each export type its PostgreSQL type, and loads the values as they were', async () => {
    const schema = freshSchema();
    const columns: Column[] = [
      { name: 'lang', path: ['lang'], type: 'text' },
      { name: 'n', path: ['n'], type: 'bigint' },
      { name: 'ratio', path: ['ratio'], type: 'double' },
      { name: 'ok', path: ['ok'], type: 'boolean' },
      { name: 'seen', path: ['seen'], type: 'timestamptz' },
      { name: 'ua', path: ['ua'], type: 'json' },
    ];
    const destination = createPostgresDestination(options(schema), 'typed');
    await destination.open();
    const at = '2026-03-01T10:00:00.123Z';
    await destination.load({
      columns,
      rows: [
        row('x', at, ['en-US', 9_007_199_254_740_991, 0.5, true, new Date('2026-02-03T04:05:06.789Z'), '{"browser":"Firefox","v":[1,2]}'], { other: { deep: 1 } }),
        row('y', at, [null, -3, -1e300, false, new Date('+020000-01-02T03:04:05.006Z'), null], null),
      ],
      seq: '1',
    });
    await destination.close();
    const types = await admin.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'events' ORDER BY ordinal_position`,
      [schema],
    );
    expect(Object.fromEntries(types.rows.map((c) => [c.column_name, c.data_type]))).toEqual({
      _id: 'text',
      timestamp: 'bigint',
      at: 'timestamp with time zone',
      extra: 'jsonb',
      lang: 'text',
      n: 'bigint',
      ratio: 'double precision',
      ok: 'boolean',
      seen: 'timestamp with time zone',
      ua: 'jsonb',
    });
    const rows = await admin.query(`SELECT _id, "timestamp"::text AS ts, at, lang, n::text, ratio, ok, seen, ua, extra FROM ${schema}.events ORDER BY _id`);
    expect(rows.rows).toEqual([
      {
        _id: 'x',
        ts: String(Date.parse(at)),
        at: new Date(at),
        lang: 'en-US',
        n: '9007199254740991',
        ratio: 0.5,
        ok: true,
        seen: new Date('2026-02-03T04:05:06.789Z'),
        ua: { browser: 'Firefox', v: [1, 2] },
        extra: { other: { deep: 1 } },
      },
      {
        _id: 'y',
        ts: String(Date.parse(at)),
        at: new Date(at),
        lang: null,
        n: '-3',
        ratio: -1e300,
        ok: false,
        seen: new Date('+020000-01-02T03:04:05.006Z'),
        ua: null,
        extra: null,
      },
    ]);
  });

  it('escapes tabs, newlines, carriage returns, backslashes and "\\." lines; a NUL (which PostgreSQL text cannot hold) becomes U+FFFD, and the row loads', async () => {
    const schema = freshSchema();
    const tricky = 'a\tb\nc\r\nd\\e\\\\f\n\\.\nend\\N';
    const withNul = 'nul\u0000here';
    const columns: Column[] = [
      { name: 's', path: ['s'], type: 'text' },
      { name: 'j', path: ['j'], type: 'json' },
    ];
    const destination = createPostgresDestination(options(schema), 'escapes');
    await destination.open();
    await destination.load({
      columns,
      rows: [
        row(`id\t${tricky}`, '2026-01-01T00:00:00Z', [tricky, JSON.stringify({ [tricky]: tricky })], { tricky, [`k${tricky}`]: 1 }),
        row('nul', '2026-01-01T00:00:00Z', [withNul, JSON.stringify({ s: withNul, [withNul]: 'key' })], { s: withNul, lone: '\ud800x', literal: '\\u0000' }),
      ],
      seq: '1',
    });
    await destination.close();
    const rows = await admin.query(`SELECT _id, s, j, extra FROM ${schema}.events ORDER BY _id`);
    expect(rows.rows).toEqual([
      { _id: `id\t${tricky}`, s: tricky, j: { [tricky]: tricky }, extra: { tricky, [`k${tricky}`]: 1 } },
      { _id: 'nul', s: 'nul\uFFFDhere', j: { s: 'nul\uFFFDhere', 'nul\uFFFDhere': 'key' }, extra: { s: 'nul\uFFFDhere', lone: '\uFFFDx', literal: '\\u0000' } },
    ]);
  });

  it('adds a batch’s new columns as nullable, and a reopened destination returns the checkpoint, the columns (in the config’s types) and the rows', async () => {
    const schema = freshSchema();
    const lang: Column = { name: 'lang', path: ['lang'], type: 'text' };
    const first = createPostgresDestination(options(schema), 'grow');
    await first.open();
    await first.load({ columns: [lang], rows: [row('a', '2026-01-01T00:00:00Z', ['en'])], seq: '10' });
    const more: Column[] = [lang, { name: 'score', path: ['score'], type: 'double' }, { name: 'meta', path: ['meta'], type: 'json' }];
    await first.load({ columns: more, rows: [row('b', '2026-01-02T00:00:00Z', ['fr', 1.5, '[1]'])], seq: '12' });
    await first.load({ columns: more, rows: [], seq: '15' });
    await first.close();
    const rows = await admin.query(`SELECT _id, lang, score, meta FROM ${schema}.events ORDER BY _id`);
    expect(rows.rows).toEqual([
      { _id: 'a', lang: 'en', score: null, meta: null },
      { _id: 'b', lang: 'fr', score: 1.5, meta: [1] },
    ]);
    const nullable = await admin.query(
      `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'events' AND column_name IN ('score', 'meta')`,
      [schema],
    );
    expect(nullable.rows.every((c) => c.is_nullable === 'YES')).toBe(true);
    const reopened = createPostgresDestination(options(schema), 'grow');
    expect(await reopened.open()).toEqual({
      checkpoint: '15',
      columns: [
        { name: 'lang', path: ['lang'], type: 'text' },
        { name: 'score', path: ['score'], type: 'double' },
        { name: 'meta', path: ['meta'], type: 'json' },
      ],
      rows: 2,
    });
    await reopened.close();
    // Another job has its own checkpoint in the same sync table.
    const other = createPostgresDestination(options(schema, { table: 'others' }), 'other');
    expect(await other.open()).toEqual({ checkpoint: undefined, columns: [], rows: 0 });
    await other.close();
  });

  it('a batch that fails in the middle of its COPY leaves nothing: no rows, no new column, no new partition, the checkpoint where it was', async () => {
    const schema = freshSchema();
    const destination = createPostgresDestination(options(schema), 'faulty');
    await destination.open();
    await destination.load({ columns: [], rows: [row('first', '2026-01-01T00:00:00Z')], seq: '1' });
    // A real server-side failure part-way through the rows: a constraint the 5,000th row breaks.
    await admin.query(`ALTER TABLE ${schema}.events ADD CONSTRAINT no_poison CHECK (_id <> 'poison')`);
    const rows = Array.from({ length: 10_000 }, (_, i) => row(i === 5_000 ? 'poison' : `r${i}`, i < 5_000 ? '2026-01-02T00:00:00Z' : '2026-06-01T00:00:00Z', ['v']));
    const columns: Column[] = [{ name: 'added', path: ['added'], type: 'text' }];
    const failed = destination.load({ columns, rows, seq: '2' });
    await expect(failed).rejects.toThrow(DestinationError);
    await expect(failed).rejects.toThrow(/cannot load 10000 rows \(up to seq 2\) into .*events on PostgreSQL at 127\.0\.0\.1:\d+\/postgres: .*no_poison/);
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'added'`, [schema])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = $1::regclass`, [`${schema}.events`])).toBe(1);
    expect((await admin.query(`SELECT seq, rows FROM ${schema}.kpiggybank_sync`)).rows).toEqual([{ seq: '1', rows: '1' }]);
    // A fault on this side, part-way through encoding the stream (a row whose time PostgreSQL cannot hold), is the same.
    const unencodable = [...rows.slice(0, 6_000).filter((r) => r.id !== 'poison'), { ...row('bad', '2026-01-02T00:00:00Z', ['v']), at: new Date(Number.NaN) }];
    await expect(destination.load({ columns, rows: unencodable, seq: '2' })).rejects.toThrow(
      /cannot load 6000 rows .*: blob bad: its time Invalid Date is outside what PostgreSQL's timestamptz holds$/,
    );
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events`)).toBe(1);
    // The same destination loads the batch once the fault is gone: its own state did not move either.
    await admin.query(`ALTER TABLE ${schema}.events DROP CONSTRAINT no_poison`);
    await destination.load({ columns, rows, seq: '2' });
    await destination.close();
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events`)).toBe(10_001);
  });

  it('loads a plain table made beforehand as it is (no partitions), and a row it cannot encode part-way through the stream cancels the COPY and leaves the connection usable', async () => {
    const schema = freshSchema();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.events (_id text NOT NULL, "timestamp" bigint NOT NULL, at timestamptz NOT NULL, extra jsonb, note char(6) DEFAULT 'theirs')`);
    const destination = createPostgresDestination(options(schema), 'plain');
    // The char(n) column is not one the export writes (varchar(n) is: text with a length): not among the job's columns, left to its default.
    expect(await destination.open()).toEqual({ checkpoint: undefined, columns: [], rows: 0 });
    const many = Array.from({ length: 30_000 }, (_, i) => row(`r${i}`, '2026-01-02T00:00:00Z'));
    await expect(destination.load({ columns: [], rows: [...many, { ...row('bad', '2026-01-02T00:00:00Z'), at: new Date(Number.NaN) }], seq: '1' })).rejects.toThrow(
      /blob bad: its time Invalid Date/,
    );
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events`)).toBe(0);
    await destination.load({ columns: [], rows: many, seq: '1' });
    await destination.close();
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events WHERE note = 'theirs'`)).toBe(30_000);
    expect(await count(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = $1::regclass`, [`${schema}.events`])).toBe(0);
  });

  it('creates a partition another exporter is creating at the same moment without failing (it waits, and takes theirs)', async () => {
    const schema = freshSchema();
    const destination = createPostgresDestination(options(schema), 'racer');
    await destination.open();
    // The other exporter: its CREATE of the week's partition is in, uncommitted, while ours begins.
    const other = new pg.Client({ connectionString: server.url });
    await other.connect();
    await other.query('BEGIN');
    await other.query(`CREATE TABLE ${schema}.events_p20251229 PARTITION OF ${schema}.events FOR VALUES FROM ('2025-12-29 00:00:00+00') TO ('2026-01-05 00:00:00+00')`);
    const loading = destination.load({ columns: [], rows: [row('ours', '2026-01-02T00:00:00Z')], seq: '1' });
    // Ours is blocked on the other's lock (pg_locks shows it waiting) until the other commits.
    for (;;) {
      if ((await count(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'kpiggybank export' AND wait_event_type = 'Lock'`)) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await other.query(`INSERT INTO ${schema}.events (_id, "timestamp", at) VALUES ('theirs', 0, '2026-01-03T00:00:00Z')`);
    await other.query('COMMIT');
    await other.end();
    await loading;
    await destination.close();
    expect((await admin.query(`SELECT _id FROM ${schema}.events ORDER BY _id`)).rows).toEqual([{ _id: 'ours' }, { _id: 'theirs' }]);
    expect(await count(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = $1::regclass`, [`${schema}.events`])).toBe(1);
  });

  it('after partition_days changes, loads into the old partitions where they cover the rows, and says why when a row falls in a gap', async () => {
    const schema = freshSchema();
    const weekly = createPostgresDestination(options(schema), 'resized');
    await weekly.open();
    await weekly.load({ columns: [], rows: [row('a', '2026-01-01T00:00:00Z')], seq: '1' });
    await weekly.close();
    const daily = createPostgresDestination(options(schema, { partition_days: 1 }), 'resized');
    await daily.open();
    // 01-01 is in the weekly partition (its day would overlap it: not made), 01-06 gets a daily one.
    await daily.load({ columns: [], rows: [row('b', '2026-01-01T12:00:00Z'), row('c', '2026-01-06T00:00:00Z')], seq: '2' });
    const names = await admin.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [`${schema}.events`]);
    expect(names.rows.map((r) => r.relname)).toEqual(['events_p20251229', 'events_p20260106']);
    // A half-day partition someone made: the day's partition would overlap it, and 18:00 is in neither.
    await admin.query(`CREATE TABLE ${schema}.odd PARTITION OF ${schema}.events FOR VALUES FROM ('2026-01-10 00:00:00+00') TO ('2026-01-10 12:00:00+00')`);
    await expect(daily.load({ columns: [], rows: [row('d', '2026-01-09T00:00:00Z'), row('e', '2026-01-10T18:00:00Z')], seq: '3' })).rejects.toThrow(
      /: no partition of relation "events" found for row: a partition of another size covers part of its span \(was partition_days changed\? partitions are never resized\): add the missing partition by hand$/,
    );
    await daily.close();
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events`)).toBe(3);
  });

  it('refuses to load when another exporter moved the same job’s checkpoint (two exporters on one job would load blobs twice)', async () => {
    const schema = freshSchema();
    const a = createPostgresDestination(options(schema), 'twice');
    const b = createPostgresDestination(options(schema), 'twice');
    await a.open();
    await b.open();
    await a.load({ columns: [], rows: [row('1', '2026-01-01T00:00:00Z')], seq: '1' });
    await expect(b.load({ columns: [], rows: [row('1', '2026-01-01T00:00:00Z')], seq: '1' })).rejects.toThrow(
      /checkpoint is no longer \(none\): is another exporter running this job\?/,
    );
    await a.close();
    await b.close();
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events`)).toBe(1);
  });

  it('after kill -9s of the loading process at random moments and restarts, holds each id exactly once', async () => {
    const schema = freshSchema();
    const batches = 30;
    const perBatch = 1_000;
    let before = 0;
    const runLoader = async (killAfter: number | undefined): Promise<number> => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/export/postgres-loader.ts', server.url, schema, String(batches), String(perBatch)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let loaded = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        if (!line.startsWith('loaded ')) continue;
        loaded++;
        if (killAfter !== undefined && loaded === killAfter) {
          // Somewhere in the next load: encoding, the COPY, or the COMMIT.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
          child.kill('SIGKILL');
          break;
        }
      }
      const code = await exited;
      if (killAfter === undefined) expect(code).toBe(0);
      // What the loader said was loaded is committed: the checkpoint is at least there (the batch in flight may or may not be).
      const seq = (await admin.query<{ seq: string }>(`SELECT seq FROM ${schema}.kpiggybank_sync WHERE job = 'kill_test'`)).rows[0]?.seq;
      expect(Number(seq)).toBeGreaterThanOrEqual(loaded + before);
      before = Number(seq);
      return loaded;
    };
    for (let kill = 0; kill < 3; kill++) await runLoader(2 + Math.floor(Math.random() * 6));
    await runLoader(undefined);
    expect(await count(`SELECT count(*) AS n FROM ${schema}.events`)).toBe(batches * perBatch);
    expect(await count(`SELECT count(DISTINCT _id) AS n FROM ${schema}.events`)).toBe(batches * perBatch);
    expect((await admin.query(`SELECT seq, rows FROM ${schema}.kpiggybank_sync WHERE job = 'kill_test'`)).rows).toEqual([
      { seq: String(batches), rows: String(batches * perBatch) },
    ]);
  }, 120_000);

  it('an unreachable server, or a wrong password, is one clear line that names the server and never the password', async () => {
    const secret = 'Sup3r-S3cret-pw';
    const port = await freePort();
    const unreachable = createPostgresDestination(options('public', { url: `postgres://exporter:${secret}@127.0.0.1:${port}/analytics` }), 'down');
    const error = await unreachable.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DestinationError);
    const message = (error as Error).message;
    expect(message).toBe(`cannot connect to load public.events on PostgreSQL at 127.0.0.1:${port}/analytics: connect ECONNREFUSED 127.0.0.1:${port}`);
    const real = new URL(server.url);
    const wrong = createPostgresDestination(options('public', { url: `postgres://postgres:${secret}@${real.host}/postgres` }), 'denied');
    const denied = await wrong.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((denied as Error).message).toMatch(
      /^cannot connect to load public\.events on PostgreSQL at 127\.0\.0\.1:\d+\/postgres: password authentication failed for user "postgres"$/,
    );
    const inQuery = createPostgresDestination(options('public', { url: `postgres://postgres@${real.host}/postgres?password=${secret}` }), 'denied');
    const deniedToo = await inQuery.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((deniedToo as Error).message).toMatch(/password authentication failed for user "postgres"$/);
    for (const e of [error, denied, deniedToo]) {
      expect(String((e as Error).stack)).not.toContain(secret);
      expect(JSON.stringify(e)).not.toContain(secret);
      expect((e as Error).message).not.toContain('\n');
    }
  });
});

describe("the timestamps the COPY writes (by hand, not toISOString's 3.5 µs)", () => {
  it('are UTC to the millisecond, before 1970 and past 9999 included', () => {
    for (const iso of [
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '2024-02-29T23:59:59.999Z',
      '2026-12-02T10:05:07.080Z',
      '0001-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
    ]) {
      expect(pgTimestamp(new Date(iso))).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`);
    }
    expect(pgTimestamp(new Date('+020000-01-02T03:04:05.006Z'))).toBe('20000-01-02 03:04:05.006+00');
    expect(pgTimestamp(new Date(Number.NaN))).toBeUndefined();
    expect(pgTimestamp(new Date('-000001-12-31T23:59:59.999Z'))).toBeUndefined();
  });
});
