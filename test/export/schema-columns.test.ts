// An event type of the declared schema as an export's columns (names, paths, types, lengths, NOT
// NULL, by dialect), and the row shaper of a job with an event type: its columns instead of
// inference, a table whose columns differ refused, a row without a required value not loadable.
import { type EventSchema, EventSchemaSchema, type EventType } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { ExportConfigSchema } from '../../src/export/config.js';
import { type Column, DestinationError } from '../../src/export/destination.js';
import { RowShaper } from '../../src/export/row-shape.js';
import { schemaColumns } from '../../src/export/schema-columns.js';
import { loadSchema } from '../../src/schema/load-schema.js';

const example = await loadSchema(new URL('../../examples/browserid-signin.schema.toml', import.meta.url).pathname);

const typeOf = (schema: EventSchema): EventType => {
  const [type] = schema.types;
  if (type === undefined) throw new Error('no type');
  return type;
};
const typeWith = (fields: Record<string, unknown>): EventType => typeOf(EventSchemaSchema.parse({ types: [{ name: 't', fields }] }));

const job = (() => {
  const [parsed] = ExportConfigSchema.parse({ exports: [{ name: 'signins', event_type: 'signin' }] }).exports;
  if (parsed === undefined) throw new Error('no job');
  return parsed;
})();

describe("an event type's columns", () => {
  it('are the example schema’s leaf fields, nested ones flattened, typed as declared, NOT NULL where required all the way up; timestamp is the fixed column', () => {
    const columns = schemaColumns(typeOf(example), 'postgres');
    expect(columns).toEqual([
      { name: 'local_timestamp', path: ['local_timestamp'], type: 'text' },
      { name: 'lang', path: ['lang'], type: 'text', maxLength: 35, notNull: true },
      { name: 'new_account', path: ['new_account'], type: 'boolean' },
      { name: 'email_type', path: ['email_type'], type: 'text' },
      { name: 'number_emails', path: ['number_emails'], type: 'bigint', notNull: true },
      { name: 'number_sites_signed_in', path: ['number_sites_signed_in'], type: 'bigint' },
      { name: 'number_sites_remembered', path: ['number_sites_remembered'], type: 'bigint' },
      { name: 'orphaned', path: ['orphaned'], type: 'boolean' },
      { name: 'sample_rate', path: ['sample_rate'], type: 'double' },
      { name: 'screen_size_width', path: ['screen_size', 'width'], type: 'bigint' },
      { name: 'screen_size_height', path: ['screen_size', 'height'], type: 'bigint' },
      // user_agent is required, but its fields are not
      { name: 'user_agent_os', path: ['user_agent', 'os'], type: 'text', maxLength: 64 },
      { name: 'user_agent_browser', path: ['user_agent', 'browser'], type: 'text', maxLength: 64 },
      { name: 'user_agent_version', path: ['user_agent', 'version'], type: 'text', maxLength: 16 },
      { name: 'event_stream', path: ['event_stream'], type: 'json' },
      { name: 'session', path: ['session'], type: 'text', maxLength: 64 },
    ]);
  });

  it('have no length in DuckDB (its VARCHAR has none), and neither length nor NOT NULL in files', () => {
    const duckdb = schemaColumns(typeOf(example), 'duckdb');
    expect(duckdb.find((column) => column.name === 'lang')).toEqual({ name: 'lang', path: ['lang'], type: 'text', notNull: true });
    expect(duckdb.some((column) => column.maxLength !== undefined)).toBe(false);
    expect(schemaColumns(typeOf(example), 'files').some((column) => column.maxLength !== undefined || column.notNull !== undefined)).toBe(false);
  });

  it('are json for objects without declared fields, arrays and json; an enum takes its values’ type; a required field under an optional object is nullable', () => {
    const columns = schemaColumns(
      typeWith({
        any: 'object',
        list: { type: 'array', items: 'integer' },
        blob: 'json',
        kind: { type: 'enum', values: ['a', 'b'] },
        level: { type: 'enum', values: [1, 2] },
        ratio: { type: 'enum', values: [0.5, 1] },
        flag: { type: 'enum', values: [true] },
        mixed: { type: 'enum', values: ['a', 1] },
        seen: { type: 'timestamp', required: true },
        outer: { type: 'object', fields: { inner: { type: 'object', required: true, fields: { deep: { type: 'integer', required: true } } } } },
      }),
      'postgres',
    );
    expect(Object.fromEntries(columns.map((column) => [column.name, `${column.type}${column.notNull ? ' NOT NULL' : ''}`]))).toEqual({
      any: 'json',
      list: 'json',
      blob: 'json',
      kind: 'text',
      level: 'bigint',
      ratio: 'double',
      flag: 'boolean',
      mixed: 'json',
      seen: 'timestamptz NOT NULL',
      outer_inner_deep: 'bigint',
    });
  });

  it('are refused, naming the field, when two fields would be one column, a field would be a fixed column, or a name is longer than PostgreSQL keeps', () => {
    expect(() => schemaColumns(typeWith({ a_b: 'string', a: { type: 'object', fields: { b: 'integer' } } }), 'duckdb')).toThrow(
      new DestinationError('event type "t": field a.b would be the column a_b, which is field a_b\'s already: rename one'),
    );
    expect(() => schemaColumns(typeWith({ Lang: 'string', lang: 'string' }), 'duckdb')).toThrow(/field lang would be the column lang, which is field Lang's already/);
    expect(() => schemaColumns(typeWith({ extra: 'json' }), 'postgres')).toThrow(/field extra would be the column extra, which is the fixed column extra already/);
    expect(() => schemaColumns(typeWith({ [`f${'x'.repeat(63)}`]: 'string' }), 'postgres')).toThrow(/longer than the 63 characters PostgreSQL keeps/);
  });
});

describe('the row shaper of a job with an event type', () => {
  const declared = schemaColumns(typeOf(example), 'postgres');
  // the table as the destination's open() made it for the job: the declared columns, read back by name
  const made = declared.map((column) => ({ ...column, path: [column.name] }));
  const blob = (fields: Record<string, unknown>) => ({ _id: 'b1', timestamp: 1_338_000_000, lang: 'en', number_emails: 1, user_agent: { browser: 'Firefox' }, ...fields });

  it('fills the declared columns, infers none, and keeps undeclared fields and misfits in extra', () => {
    const shaper = new RowShaper(job, made, declared);
    const row = shaper.shape(blob({ typo: 1, user_agent: { browser: 'x'.repeat(65), os: 'Linux', engine: 'Gecko' } }));
    expect(shaper.columns).toEqual(declared);
    const cells = Object.fromEntries(declared.map((column, i) => [column.name, row.cells[i]]));
    expect(cells).toMatchObject({ lang: 'en', number_emails: 1, user_agent_os: 'Linux', user_agent_browser: null });
    // over varchar(64): not loaded into the column, kept as it was
    expect(row.extra).toEqual({ typo: 1, user_agent: { browser: 'x'.repeat(65), engine: 'Gecko' } });
    expect(shaper.loadable(row)).toBe(true);
  });

  it('finds a row without a value of its type for a NOT NULL column not loadable (a blob posted before the schema)', () => {
    const shaper = new RowShaper(job, made, declared);
    expect(shaper.loadable(shaper.shape(blob({ lang: undefined })))).toBe(false);
    expect(shaper.loadable(shaper.shape(blob({ number_emails: '2' })))).toBe(false);
    expect(shaper.loadable(shaper.shape(blob({ lang: 'x'.repeat(36) })))).toBe(false);
    expect(shaper.loadable(shaper.shape(blob({})))).toBe(true);
  });

  it("refuses, before any row, a table whose column is not the declared type (narrowed or not), naming the field and both types; adds a new optional field's column", () => {
    const table = (change: Partial<Column>, name = 'user_agent_version'): Column[] =>
      declared.map((column) => (column.name === name ? { ...column, path: [column.name], ...change } : { ...column, path: [column.name] }));
    expect(() => new RowShaper(job, table({ maxLength: 64 }), declared)).toThrow(
      new DestinationError(
        'export "signins": column "user_agent_version" (field user_agent.version) is declared varchar(16) by the event schema, but the destination\'s table has it as varchar(64): ' +
          'a column never changes once made: export into a new table, or change the column by hand (ALTER TABLE) to the declared type',
      ),
    );
    expect(() => new RowShaper(job, table({ type: 'double' }, 'number_emails'), declared)).toThrow(
      /is declared bigint NOT NULL by the event schema, but the destination's table has it as double NOT NULL/,
    );
    expect(() => new RowShaper(job, table({ type: 'text' }, 'event_stream'), declared)).toThrow(/column "event_stream" \(field event_stream\) is declared json .* has it as text:/);
    expect(() => new RowShaper(job, table({ notNull: undefined }, 'lang'), declared)).toThrow(/is declared varchar\(35\) NOT NULL .* has it as varchar\(35\):/);
    const withoutSession = table({}).filter((column) => column.name !== 'session');
    expect(new RowShaper(job, withoutSession, declared).columns.at(-1)).toEqual(declared.at(-1));
    const withoutLang = table({}).filter((column) => column.name !== 'lang');
    expect(() => new RowShaper(job, withoutLang, declared)).toThrow(
      /column "lang" \(field lang\) is required by the event schema, but the destination's table, made before, has no such column/,
    );
  });
});
