// Issue 25's check for the tables: the example schema's `kpiggybank schema sql` output runs as it
// is in PostgreSQL and in DuckDB, and an export with event_type = "signin" into those tables,
// made beforehand, loads 100,000 sign-in blobs posted to a service started with the schema, each
// once, with the declared types.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type RunningPostgres } from '../../harness/postgres.js';
import { loadSchema } from '../../src/schema/load-schema.js';
import { pool, startTestApp, TEST_LIMITS, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { withDuckDb } from '../support/duckdb-file.js';
import { postBlobs } from '../support/post.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/browserid-signin.schema.toml', import.meta.url));
const BLOBS = 100_000;
const PER_POST = 1_000;

const LANGS = ['en-US', 'fr', 'de', 'pt-BR'];

/** The i-th sign-in, as Persona's dialog posted them, valid under the example schema (its values vary with i, so that a row can be checked). */
function signIn(i: number): Record<string, unknown> {
  return {
    timestamp: 1_338_000_000 + i,
    lang: LANGS[i % LANGS.length],
    screen_size: { width: 1280, height: 800 + (i % 3) },
    user_agent: { os: i % 2 === 0 ? 'Macintosh' : 'Windows', browser: 'Firefox', version: `15.${i % 10}` },
    number_emails: (i % 5) + 1,
    number_sites_signed_in: i % 7,
    new_account: i % 2 === 0,
    email_type: i % 3 === 0 ? 'primary' : 'secondary',
    sample_rate: 0.5,
    orphaned: false,
    event_stream: [
      ['screen.rp_info', 0],
      ['window.dom_loaded', 243 + (i % 100)],
      ['assertion_generated', 3986],
    ],
    session: `s${i.toString(36).padStart(8, '0')}`,
  };
}

let app: TestApp;
let postgres: RunningPostgres;
let admin: pg.Client;
let dir: string;
const ids: string[] = [];
const pgSchema = `kpiggybank_test_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  [postgres, app, dir] = await Promise.all([
    startPostgres(),
    loadSchema(EXAMPLE).then((schema) => startTestApp('memory', { schema, limits: { ...TEST_LIMITS, maxBatchBlobs: PER_POST } })),
    mkdtemp(join(tmpdir(), 'signin-schema-')),
  ]);
  admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  const posted = await pool(BLOBS / PER_POST, 2, (k) =>
    postBlobs(
      app.url,
      Array.from({ length: PER_POST }, (_, j) => signIn(k * PER_POST + j)),
    ),
  );
  ids.push(...posted.flat());
}, 120_000);

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
  await admin?.end();
  await postgres?.stop();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** PostgreSQL's view of the table's columns: type (with its length) and NOT NULL, by name. */
async function pgColumns(): Promise<Record<string, string>> {
  const { rows } = await admin.query<{ name: string; type: string; length: number | null; nullable: string }>(
    `SELECT column_name AS name, data_type AS type, character_maximum_length::int AS length, is_nullable::text AS nullable
       FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'signin' ORDER BY ordinal_position`,
    [pgSchema],
  );
  return Object.fromEntries(rows.map((c) => [c.name, `${c.type}${c.length === null ? '' : `(${c.length})`}${c.nullable === 'NO' ? ' NOT NULL' : ''}`]));
}

/** DuckDB's view of the same. */
const duckColumns = (path: string) =>
  withDuckDb(path, async (connection) => {
    const reader = await connection.runAndReadAll(`SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE table_name = 'signin' ORDER BY column_index`);
    return Object.fromEntries(reader.getRows().map(([name, type, nullable]) => [String(name), `${String(type)}${nullable === false ? ' NOT NULL' : ''}`]));
  });

describe('the example schema’s tables', () => {
  it('kpiggybank schema sql runs as is in PostgreSQL and DuckDB, and export --once with event_type = "signin" loads 100,000 sign-ins into them with the declared types', async () => {
    const duckPath = join(dir, 'kpi.duckdb');
    const [pgSql, duckSql] = await Promise.all([
      runCli(['schema', 'sql', '--dialect', 'postgres'], { env: { SCHEMA_FILE: EXAMPLE } }),
      runCli(['schema', 'sql', '--dialect', 'duckdb', '--schema', EXAMPLE]),
    ]);
    expect(pgSql).toMatchObject({ code: 0, stderr: '' });
    expect(duckSql).toMatchObject({ code: 0, stderr: '' });
    await admin.query(`CREATE SCHEMA ${pgSchema}`);
    await admin.query(`SET search_path TO ${pgSchema}`);
    await admin.query(pgSql.stdout);
    await withDuckDb(duckPath, (connection) => connection.run(duckSql.stdout));

    const declaredPg = {
      _id: 'text NOT NULL',
      timestamp: 'bigint NOT NULL',
      at: 'timestamp with time zone NOT NULL',
      extra: 'jsonb',
      local_timestamp: 'text',
      lang: 'character varying(35) NOT NULL',
      new_account: 'boolean',
      email_type: 'text',
      number_emails: 'bigint NOT NULL',
      number_sites_signed_in: 'bigint',
      number_sites_remembered: 'bigint',
      orphaned: 'boolean',
      sample_rate: 'double precision',
      screen_size_width: 'bigint',
      screen_size_height: 'bigint',
      user_agent_os: 'character varying(64)',
      user_agent_browser: 'character varying(64)',
      user_agent_version: 'character varying(16)',
      event_stream: 'jsonb',
      session: 'character varying(64)',
    };
    const declaredDuck = {
      _id: 'VARCHAR NOT NULL',
      timestamp: 'BIGINT NOT NULL',
      at: 'TIMESTAMP WITH TIME ZONE NOT NULL',
      extra: 'JSON',
      local_timestamp: 'VARCHAR',
      lang: 'VARCHAR NOT NULL',
      new_account: 'BOOLEAN',
      email_type: 'VARCHAR',
      number_emails: 'BIGINT NOT NULL',
      number_sites_signed_in: 'BIGINT',
      number_sites_remembered: 'BIGINT',
      orphaned: 'BOOLEAN',
      sample_rate: 'DOUBLE',
      screen_size_width: 'BIGINT',
      screen_size_height: 'BIGINT',
      user_agent_os: 'VARCHAR',
      user_agent_browser: 'VARCHAR',
      user_agent_version: 'VARCHAR',
      event_stream: 'JSON',
      session: 'VARCHAR',
    };
    expect(await pgColumns()).toEqual(declaredPg);
    expect(await duckColumns(duckPath)).toEqual(declaredDuck);
    const partitioned = await admin.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = to_regclass('${pgSchema}.signin')`);
    expect(partitioned.rows).toEqual([{ relkind: 'p' }]);

    const config = join(dir, 'export.toml');
    await writeFile(
      config,
      `source = { url = "${app.url}" }

[[exports]]
name = "signin_pg"
event_type = "signin"
destination = { kind = "postgres", url = "${postgres.url}", schema = "${pgSchema}", table = "signin" }
batch = { max_blobs = 10000 }

[[exports]]
name = "signin_duck"
event_type = "signin"
destination = { kind = "duckdb", path = "${duckPath}", table = "signin" }
batch = { max_blobs = 10000 }
`,
    );
    const run = await runCli(['export', '--once', '--config', config]);
    expect(run.stderr).not.toMatch(/"level":(40|50|60)/);
    expect(run.code).toBe(0);

    // the tables are as `schema sql` made them: the export added and changed no column
    expect(await pgColumns()).toEqual(declaredPg);
    expect(await duckColumns(duckPath)).toEqual(declaredDuck);

    const counts = await admin.query<{ n: number; ids: number; extras: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT _id)::int AS ids, count(extra)::int AS extras FROM ${pgSchema}.signin`,
    );
    expect(counts.rows).toEqual([{ n: BLOBS, ids: BLOBS, extras: 0 }]);
    const i = 12_345;
    const id = ids[i] as string;
    const expected = signIn(i);
    const pgRow = await admin.query(
      `SELECT "timestamp"::int AS ts, at, lang, number_emails::int AS n, new_account, email_type, sample_rate, screen_size_height::int AS h,
              user_agent_os, user_agent_version, event_stream, session, extra FROM ${pgSchema}.signin WHERE _id = $1`,
      [id],
    );
    expect(pgRow.rows).toEqual([
      {
        ts: expected.timestamp,
        at: new Date((1_338_000_000 + i) * 1000),
        lang: 'fr',
        n: 1,
        new_account: false,
        email_type: 'primary',
        sample_rate: 0.5,
        h: 800,
        user_agent_os: 'Windows',
        user_agent_version: '15.5',
        event_stream: expected.event_stream,
        session: expected.session,
        extra: null,
      },
    ]);

    const duck = await withDuckDb(duckPath, async (connection) => {
      const totals = (
        await connection.runAndReadAll('SELECT count(*)::INTEGER AS n, count(DISTINCT _id)::INTEGER AS ids, count(extra)::INTEGER AS extras FROM signin')
      ).getRowObjectsJS();
      const row = (
        await connection.runAndReadAll(
          'SELECT lang, number_emails::INTEGER AS n, new_account, sample_rate, screen_size_height::INTEGER AS h, user_agent_version, event_stream::VARCHAR AS events FROM signin WHERE _id = $1',
          [id],
        )
      ).getRowObjectsJS();
      return { totals, row };
    });
    expect(duck.totals).toEqual([{ n: BLOBS, ids: BLOBS, extras: 0 }]);
    expect(duck.row).toEqual([{ lang: 'fr', n: 1, new_account: false, sample_rate: 0.5, h: 800, user_agent_version: '15.5', events: JSON.stringify(expected.event_stream) }]);
    // the same 100,000 ids as were posted, in both
    const pgIds = await admin.query<{ _id: string }>(`SELECT _id FROM ${pgSchema}.signin ORDER BY _id`);
    expect(pgIds.rows.map((r) => r._id)).toEqual([...ids].sort());
  }, 120_000);
});
