// `kpiggybank export status` end to end: the real CLI in a process of its own, a real service, a
// real DuckDB file, a real PostgreSQL cluster (harness/postgres.ts), real files. Status only reads:
// on a fresh config it creates no folder, no DuckDB file, no schema or table; while an exporter
// holds a DuckDB file it says so in one line; every mistake is one line with its exit code.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPostgres, startPostgres } from '../../harness/postgres.js';
import { ExportConfigSchema, type ExportJobConfig } from '../../src/export/config.js';
import { createDuckDbDestination } from '../../src/export/duckdb/duckdb-destination.js';
import { createFilesDestination } from '../../src/export/files/files-destination.js';
import { readJobState } from '../../src/export/open-destination.js';
import { createPostgresDestination } from '../../src/export/postgres/postgres-destination.js';
import { freePort } from '../../src/loadtest/free-port.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { hasStackTrace, runCli } from '../support/cli.js';
import { startExporter } from '../support/exporter-process.js';
import { postBlobs } from '../support/post.js';

let app: TestApp;
let postgres: RunningPostgres;
let admin: pg.Client;
let dir: string;
const schemas: string[] = [];

beforeAll(async () => {
  [app, postgres, dir] = await Promise.all([startTestApp('memory'), startPostgres(), mkdtemp(join(tmpdir(), 'export-status-'))]);
  admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
}, 60_000);

afterAll(async () => {
  for (const schema of schemas) await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
  await Promise.all([app?.close(), postgres?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function writeText(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const schemaExists = async (schema: string) => (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

describe('kpiggybank export status', () => {
  it('creates nothing on a fresh config (no folder, no DuckDB file, no schema or table): each job is "not started"; after an export it reads each checkpoint', async () => {
    const ids = await postBlobs(
      app.url,
      Array.from({ length: 20 }, (_, i) => ({ timestamp: 1_700_000_000 + i, n: i })),
    );
    const schema = `status_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const config = await writeText(
      'fresh.toml',
      `source = { url = "${app.url}" }

[[exports]]
name = "to_files"
destination = { kind = "files", dir = "fresh-files" }

[[exports]]
name = "to_duckdb"
destination = { kind = "duckdb", path = "fresh.duckdb" }

[[exports]]
name = "to_postgres"
destination = { kind = "postgres", url = "${postgres.url}", schema = "${schema}" }
`,
    );
    const before = await readdir(dir);
    const status = await runCli(['export', 'status', '--config', config]);
    // nothing was made: no folder, no DuckDB file (nor its WAL), no schema (so no sync table, no table)
    expect(await readdir(dir)).toEqual(before);
    expect(await schemaExists(schema)).toBe(false);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const behind = await app.store.currentSeq();
    for (const job of ['to_files', 'to_duckdb', 'to_postgres']) {
      expect(status.stdout).toMatch(new RegExp(`^${job} +\\(none\\) +0 +${behind} +\\S+$`, 'm'));
      expect(status.stdout).toMatch(new RegExp(`^  ${job}: .* \\(not started: nothing loaded yet\\)$`, 'm'));
    }

    const run = await runCli(['export', '--once', '--config', config]);
    expect(run.code).toBe(0);
    const seq = await app.store.currentSeq();
    const after = await runCli(['export', 'status', '--config', config]);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    for (const job of ['to_files', 'to_duckdb', 'to_postgres']) expect(after.stdout).toMatch(new RegExp(`^${job} +${seq} +${ids.length} +0 +0ms$`, 'm'));
    expect(after.stdout).not.toContain('not started');
  });

  it('while a running exporter holds the DuckDB file: one line naming the file, the exporter and what to do, exit 1; once it stops, the checkpoint', async () => {
    await postBlobs(app.url, [{ timestamp: 1_700_000_500, held: true }]);
    const config = await writeText(
      'held.toml',
      `source = { url = "${app.url}" }\n\n[[exports]]\nname = "held"\ndestination = { kind = "duckdb", path = "held.duckdb" }\nbatch = { max_delay = "50ms" }\n`,
    );
    const exporter = startExporter(config, 'follow');
    try {
      await exporter.caughtUp;
      const status = await runCli(['export', 'status', '--config', config]);
      expect(status.code).toBe(1);
      const path = join(dir, 'held.duckdb');
      expect(status.stderr).toBe(
        `kpiggybank export: export "held": DuckDB file ${path} is held by a running kpiggybank export (PID ${exporter.child.pid}), and DuckDB lets no other process open it meanwhile, even to read: ` +
          "the exporter's own log says where it stands; or stop it (SIGTERM: it loads the batch in hand) and run status again\n",
      );
      expect(status.stdout).toMatch(/^held +\? +\? +\? +\?$/m);
      expect(status.stdout).toContain(`  held: duckdb ${path}, table held (could not be read)`);
    } finally {
      expect((await exporter.stop()).code).toBe(0);
    }
    const status = await runCli(['export', 'status', '--config', config]);
    expect(status.code).toBe(0);
    const seq = await app.store.currentSeq();
    expect(status.stdout).toMatch(new RegExp(`^held +${seq} +\\d+ +0 +0ms$`, 'm'));
  });
});

describe('bad input: one line each, its exit code, no stack trace', () => {
  const password = 'not-to-be-printed-7f3a';

  it.each([
    [
      'a typo in the config',
      async () => ['export', 'status', '--config', await writeText('typo.toml', '[[exports]]\nname = "a"\ndestination = { kind = "duckdb", path = "a.duckdb", tabel = "x" }\n')],
      2,
      /^kpiggybank export: .*typo\.toml: exports\[0\]\.destination\.tabel: unknown key\n$/,
    ],
    ['a missing config file', async () => ['export', 'status', '--config', join(dir, 'absent.toml')], 2, /^kpiggybank export: .*absent\.toml: no such file[^\n]*\n$/],
    [
      'an unreachable service',
      async () => [
        'export',
        'status',
        '--config',
        await writeText(
          'away.toml',
          `source = { url = "http://127.0.0.1:${await freePort()}" }\n\n[[exports]]\nname = "away"\ndestination = { kind = "duckdb", path = "away.duckdb" }\n`,
        ),
      ],
      1,
      /^kpiggybank export: cannot reach the service at http:\/\/127\.0\.0\.1:\d+: [^\n]+\n$/,
    ],
  ])('status, %s', async (_what, args, code, stderr) => {
    const run = await runCli(await args());
    expect(run.stderr).toMatch(stderr);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe('');
    expect(hasStackTrace(run.stderr)).toBe(false);
  });

  it.each([['status'], ['--once']])(
    'export %s, an unreachable PostgreSQL (a closed port): one line naming the server, never its password, exit 1, nothing loaded',
    async (mode) => {
      await postBlobs(app.url, [{ timestamp: 1_700_000_600 }]);
      const port = await freePort();
      const config = await writeText(
        'pg-away.toml',
        `source = { url = "${app.url}" }\n\n[[exports]]\nname = "pg_away"\ndestination = { kind = "postgres", url = "postgres://exporter:${password}@127.0.0.1:${port}/analytics" }\n`,
      );
      const run = await runCli(['export', mode, '--config', config], { env: { PGPASSWORD: `${password}-env` } });
      expect(run.code).toBe(1);
      const line =
        mode === 'status'
          ? `kpiggybank export: export "pg_away": cannot connect to read public.pg_away on PostgreSQL at 127.0.0.1:${port}/analytics: connect ECONNREFUSED 127.0.0.1:${port}\n`
          : `kpiggybank export: export "pg_away": cannot connect to load public.pg_away on PostgreSQL at 127.0.0.1:${port}/analytics: connect ECONNREFUSED 127.0.0.1:${port}\n`;
      if (mode === 'status') {
        expect(run.stderr).toBe(line);
        expect(run.stdout).toMatch(/^pg_away +\? +\? +\? +\?$/m);
        expect(run.stdout).toContain(`pg_away: postgres postgres://exporter:***@127.0.0.1:${port}/analytics, table public.pg_away (could not be read)`);
      } else {
        // the JSON log's lines first (stderr is not a terminal here), the failure last, in a line of its own
        expect(run.stderr.endsWith(line)).toBe(true);
        expect(run.stderr.split('\n').filter((l) => l.startsWith('kpiggybank export:'))).toHaveLength(1);
      }
      expect(`${run.stdout}${run.stderr}`).not.toContain(password);
      expect(hasStackTrace(run.stderr)).toBe(false);
    },
  );

  it('status, a wrong or missing read token: one line naming READ_TOKEN, exit 1; the right one reads', async () => {
    const guarded = await startTestApp('memory', { tokens: { read: 'the-read-token' } });
    try {
      await postBlobs(guarded.url, [{ timestamp: 1_700_000_700 }]);
      const config = await writeText(
        'guarded.toml',
        `source = { url = "${guarded.url}" }\n\n[[exports]]\nname = "guarded"\ndestination = { kind = "duckdb", path = "guarded.duckdb" }\n`,
      );
      for (const env of [{}, { READ_TOKEN: 'wrong' }] as Record<string, string>[]) {
        const run = await runCli(['export', 'status', '--config', config], { env });
        expect(run.stderr).toMatch(/^kpiggybank export: the service (refused the token in READ_TOKEN|needs its read token and none was given): set READ_TOKEN[^\n]*\n$/);
        expect(run.code).toBe(1);
        expect(hasStackTrace(run.stderr)).toBe(false);
      }
      const run = await runCli(['export', 'status', '--config', config], { env: { READ_TOKEN: 'the-read-token' } });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^guarded +\(none\) +0 +1 +\S+$/m);
      // status on a guarded service created nothing either
      expect(await readdir(dir)).not.toContain('guarded.duckdb');
    } finally {
      await guarded.close();
    }
  });
});

describe('reading a destination for status, in process', () => {
  /** The job as the config file would give it: its destination's defaults filled in. */
  const job = (name: string, destination: Record<string, unknown>): ExportJobConfig => ExportConfigSchema.parse({ exports: [{ name, destination }] }).exports[0] as ExportJobConfig;

  it('DuckDB: a file without the sync table, or without the job in it, is not started', async () => {
    const path = join(dir, 'other.duckdb');
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run('CREATE TABLE unrelated (a INTEGER)');
    connection.closeSync();
    instance.closeSync();
    const state = () => readJobState(job('first', { kind: 'duckdb', path }));
    expect(await state()).toEqual({ checkpoint: undefined, rows: 0 });
    const destination = createDuckDbDestination({ kind: 'duckdb', path }, 'second');
    await destination.open();
    await destination.load({ columns: [], rows: [], seq: '7' });
    await destination.close();
    expect(await state()).toEqual({ checkpoint: undefined, rows: 0 });
    expect(await readJobState(job('second', { kind: 'duckdb', path }))).toEqual({ checkpoint: '7', rows: 0 });
  });

  it("files: another job's folder, or a folder of files with no checkpoint, is the same line the export would give", async () => {
    const taken = join(dir, 'taken');
    const destination = createFilesDestination({ kind: 'files', dir: taken, format: 'ndjson', gzip: false }, 'owner');
    await destination.open();
    await destination.close();
    await expect(readJobState(job('intruder', { kind: 'files', dir: taken }))).rejects.toThrow(
      `${taken} holds the files of export job "owner", not "intruder": give each job its own dir`,
    );
    const stray = join(dir, 'stray');
    await mkdir(stray);
    await writeFile(join(stray, 'notes.txt'), 'mine');
    await expect(readJobState(job('stray', { kind: 'files', dir: stray }))).rejects.toThrow(
      `${stray} holds files (notes.txt) but no _checkpoint.json: give job stray an empty or new dir`,
    );
    expect(await readdir(stray)).toEqual(['notes.txt']);
  });

  it('PostgreSQL: a sync table without the job is not started, and nothing is added to it', async () => {
    const schema = `status_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const options = { kind: 'postgres', url: postgres.url, schema, partition_days: 7, sync_table: 'kpiggybank_sync' } as const;
    const destination = createPostgresDestination({ ...options }, 'loaded');
    await destination.open();
    await destination.load({ columns: [], rows: [], seq: '9' });
    await destination.close();
    expect(await readJobState(job('fresh', options))).toEqual({ checkpoint: undefined, rows: 0 });
    expect(await readJobState(job('loaded', options))).toEqual({ checkpoint: '9', rows: 0 });
    expect((await admin.query(`SELECT job FROM ${schema}.kpiggybank_sync ORDER BY job`)).rows).toEqual([{ job: 'loaded' }]);
    expect((await admin.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, 'fresh'])).rowCount).toBe(0);
  });
});
