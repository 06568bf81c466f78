// An export job with `event_type`, end to end: the real CLI, a real service started with a
// schema (and the same store served without one, for blobs posted before the schema), DuckDB and
// PostgreSQL. Only the type's blobs load, into the schema's columns; a blob without a required
// value is skipped and logged; a schema change that adds an optional field adds a column, one
// that changes a column's type is refused before anything loads; a schema missing from the
// service, or without the type, is one line and exit 1.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventSchema, EventSchemaSchema } from 'kpiggybank-client/wire';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type RunningPostgres } from '../../harness/postgres.js';
import { parseConfig } from '../../src/export/load-config.js';
import { serveApp, type TestApp } from '../support/app.js';
import { hasStackTrace, runCli } from '../support/cli.js';
import { withDuckDb } from '../support/duckdb-file.js';
import { partFiles } from '../support/files-reading.js';
import { postBlobs } from '../support/post.js';
import { openTestStore, type TestStore } from '../support/stores.js';

/** Sign-ins and sign-outs, told apart by `event`; `fields` are the sign-in's, over lang (required) and n. */
const schemaOf = (fields: Record<string, unknown> = {}): EventSchema =>
  EventSchemaSchema.parse({
    types: [
      { name: 'signin', when: { field: 'event', value: 'signin' }, fields: { event: 'string', lang: { type: 'string', max_length: 64, required: true }, n: 'integer', ...fields } },
      { name: 'signout', when: { field: 'event', value: 'signout' }, fields: { event: 'string' } },
    ],
  });

let store: TestStore;
let dir: string;
const apps: TestApp[] = [];

/** The test store served, with `schema` or without one. */
async function serve(schema?: EventSchema): Promise<TestApp> {
  const app = await serveApp(store.store, { schema });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  store = await openTestStore('memory');
  dir = await mkdtemp(join(tmpdir(), 'event-type-'));
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await store?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const configFor = async (name: string, url: string, destination: string, eventType = 'signin') => {
  const file = join(dir, `${name}-${randomBytes(3).toString('hex')}.toml`);
  await writeFile(file, `source = { url = "${url}" }\n\n[[exports]]\nname = "${name}"\nevent_type = "${eventType}"\ndestination = ${destination}\n`);
  return file;
};

const query = (path: string, sql: string) => withDuckDb(path, async (connection) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);

/** The exporter's pino lines on stderr (a pipe: JSON, one a line). */
const logLines = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('an export with event_type', () => {
  it('takes no columns of its own in the config: they are the schema’s', () => {
    expect(() => parseConfig('[[exports]]\nname = "s"\nevent_type = "signin"\ncolumns = { lang = "text" }\n', 'x.toml')).toThrow(
      'x.toml: exports[0].columns: the columns of event_type "signin" are the schema\'s: declare no columns beside it',
    );
    expect(parseConfig('[[exports]]\nname = "s"\nevent_type = "signin"\n', 'x.toml').exports[0]?.event_type).toBe('signin');
  });

  it('is one line and exit 1 when the service declares no schema, or not the type', async () => {
    const plain = await serve();
    const none = await runCli(['export', '--once', '--config', await configFor('nothing', plain.url, '{ kind = "duckdb", path = "none.duckdb" }')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `kpiggybank export: export "nothing": event_type "signin": the service at ${plain.url} declares no event schema (start it with SCHEMA_FILE: see docs/schema.md)\n`,
    );
    const typed = await serve(schemaOf());
    const unknown = await runCli(['export', '--once', '--config', await configFor('unknown', typed.url, '{ kind = "duckdb", path = "none.duckdb" }', 'signon')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('kpiggybank export: export "unknown": event_type: the schema declares no event type "signon" (it declares "signin", "signout")\n');
    expect(hasStackTrace(none.stderr + unknown.stderr)).toBe(false);
  });

  it('loads only its type’s blobs into the schema’s columns, skips and logs one without a required value, adds an optional field’s column on the next run, and refuses a changed type before loading', async () => {
    // posted before the service had its schema: no lang
    const [early] = await postBlobs((await serve()).url, [{ timestamp: 1_700_000_000, event: 'signin', n: 1 }]);
    const v1 = await serve(schemaOf());
    const signins = await postBlobs(v1.url, [
      { timestamp: 1_700_000_001, event: 'signin', lang: 'en', n: 2 },
      { timestamp: 1_700_000_002, event: 'signin', lang: 'fr', n: 3, note: 'undeclared' },
    ]);
    await postBlobs(v1.url, [{ timestamp: 1_700_000_003, event: 'signout' }]);
    const path = join(dir, 'typed.duckdb');
    const destination = `{ kind = "duckdb", path = "${path}", table = "signin" }`;
    const first = await runCli(['export', '--once', '--config', await configFor('typed', v1.url, destination)]);
    expect(first.code).toBe(0);
    const warnings = logLines(first.stderr).filter((line) => line.level === 40);
    expect(warnings).toMatchObject([{ job: 'typed', skipped: 1, first_id: early }]);
    expect(await query(path, 'SELECT _id, event, lang, n::INTEGER AS n, extra::VARCHAR AS extra FROM signin ORDER BY "timestamp"')).toEqual([
      { _id: signins[0], event: 'signin', lang: 'en', n: 2, extra: null },
      { _id: signins[1], event: 'signin', lang: 'fr', n: 3, extra: '{"note":"undeclared"}' },
    ]);
    const columns = async () =>
      (await query(path, "SELECT column_name AS c, data_type AS t, is_nullable AS o FROM duckdb_columns() WHERE table_name = 'signin' ORDER BY column_index")).map(
        (r) => `${r.c} ${r.t}${r.o ? '' : ' NOT NULL'}`,
      );
    expect((await columns()).slice(4)).toEqual(['event VARCHAR', 'lang VARCHAR NOT NULL', 'n BIGINT']);

    // v2 adds an optional field: a nullable column at the end, filled from then on
    const v2 = await serve(schemaOf({ country: 'string' }));
    const [later] = await postBlobs(v2.url, [{ timestamp: 1_700_000_004, event: 'signin', lang: 'de', n: 4, country: 'DE' }]);
    const second = await runCli(['export', '--once', '--config', await configFor('typed', v2.url, destination)]);
    expect(second.code).toBe(0);
    expect((await columns()).slice(4)).toEqual(['event VARCHAR', 'lang VARCHAR NOT NULL', 'n BIGINT', 'country VARCHAR']);
    expect(await query(path, 'SELECT _id, country FROM signin ORDER BY "timestamp"')).toEqual([
      { _id: signins[0], country: null },
      { _id: signins[1], country: null },
      { _id: later, country: 'DE' },
    ]);

    // v3 makes n a number (bigint -> double), v4 makes it required: each refused at open, nothing loaded
    for (const [schema, declared] of [
      [schemaOf({ country: 'string', n: 'number' }), 'double'],
      [schemaOf({ country: 'string', n: { type: 'integer', required: true } }), 'bigint NOT NULL'],
    ] as const) {
      const app = await serve(schema);
      await postBlobs(app.url, [{ timestamp: 1_700_000_005, event: 'signin', lang: 'it', n: 5 }]);
      const refused = await runCli(['export', '--once', '--config', await configFor('typed', app.url, destination)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n').at(-1)).toBe(
        `kpiggybank export: export "typed": column "n" (field n) is declared ${declared} by the event schema, but the destination's table has it as bigint: ` +
          'a column never changes once made: export into a new table, or change the column by hand (ALTER TABLE) to the declared type',
      );
      expect(await query(path, 'SELECT count(*)::INTEGER AS n FROM signin')).toEqual([{ n: 3 }]);
    }
  }, 60_000);
});

describe('an export with event_type into files', () => {
  it('writes only its type’s blobs, with the schema’s columns and no constraint: a blob without a required value is a row with NULL there', async () => {
    const own = await openTestStore('memory');
    try {
      const before = await serveApp(own.store);
      const [early] = await postBlobs(before.url, [{ timestamp: 1_700_200_000, event: 'signout' }]);
      await before.close();
      const app = await serveApp(own.store, { schema: schemaOf() });
      await postBlobs(app.url, [{ timestamp: 1_700_200_001, event: 'signin', lang: 'en', n: 1 }]);
      const [out] = await postBlobs(app.url, [{ timestamp: 1_700_200_002, event: 'signout', extra_field: true }]);
      const folder = join(dir, 'signouts');
      const destination = `{ kind = "files", dir = "${folder}" }`;
      const schema = EventSchemaSchema.parse({
        types: [
          ...schemaOf().types.slice(0, 1),
          { name: 'signout', when: { field: 'event', value: 'signout' }, fields: { event: { type: 'string', required: true }, why: { type: 'string', required: true } } },
        ],
      });
      await app.close();
      const typed = await serveApp(own.store, { schema });
      try {
        const run = await runCli(['export', '--once', '--config', await configFor('signouts', typed.url, destination, 'signout')]);
        expect(run.code).toBe(0);
        const lines = [...(await partFiles(folder)).values()]
          .join('')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(lines).toEqual([
          { _id: early, timestamp: 1_700_200_000, at: '2023-11-17T05:46:40.000Z', event: 'signout', why: null, extra: null },
          { _id: out, timestamp: 1_700_200_002, at: '2023-11-17T05:46:42.000Z', event: 'signout', why: null, extra: { extra_field: true } },
        ]);
      } finally {
        await typed.close();
      }
    } finally {
      await own.cleanup();
    }
  });
});

describe('an export with event_type into PostgreSQL', () => {
  let postgres: RunningPostgres;
  let admin: pg.Client;
  const schema = `kpiggybank_test_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    postgres = await startPostgres();
    admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
  }, 60_000);
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
    await postgres?.stop();
  });

  it('creates the table with varchar(n) and NOT NULL, and refuses a narrowed varchar before loading, naming the field and both types', async () => {
    const v1 = await serve(schemaOf());
    await postBlobs(v1.url, [{ timestamp: 1_700_100_000, event: 'signin', lang: 'en-GB', n: 1 }]);
    const destination = `{ kind = "postgres", url = "${postgres.url}", schema = "${schema}", table = "signin" }`;
    expect((await runCli(['export', '--once', '--config', await configFor('pg', v1.url, destination)])).code).toBe(0);
    const types = await admin.query<{ c: string; t: string; l: number | null; o: string }>(
      `SELECT column_name AS c, data_type AS t, character_maximum_length::int AS l, is_nullable::text AS o FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'signin' AND column_name IN ('lang', 'n') ORDER BY ordinal_position`,
      [schema],
    );
    expect(types.rows).toEqual([
      { c: 'lang', t: 'character varying', l: 64, o: 'NO' },
      { c: 'n', t: 'bigint', l: null, o: 'YES' },
    ]);
    const before = Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.signin`)).rows[0]?.n);
    const narrowed = await serve(schemaOf({ lang: { type: 'string', max_length: 16, required: true } }));
    const refused = await runCli(['export', '--once', '--config', await configFor('pg', narrowed.url, destination)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /column "lang" \(field lang\) is declared varchar\(16\) NOT NULL by the event schema, but the destination's table has it as varchar\(64\) NOT NULL: /,
    );
    expect(hasStackTrace(refused.stderr)).toBe(false);
    expect(Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.signin`)).rows[0]?.n)).toBe(before);
  }, 60_000);
});
