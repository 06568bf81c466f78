import { type StoredBlob, StoredBlobSchema } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { ExportConfigSchema } from '../../src/export/config.js';
import { type Column, DestinationError, type Row } from '../../src/export/destination.js';
import { type JobColumnsConfig, MAX_COLUMNS, RowShaper } from '../../src/export/row-shape.js';

/** A job as the config file's schema gives it (`lang = "text"` shorthand, defaults). */
function jobOf(fields: { columns?: Record<string, unknown>; infer?: boolean }): JobColumnsConfig {
  const config = ExportConfigSchema.parse({ exports: [{ name: 'signins', destination: { kind: 'duckdb', path: 'x.duckdb' }, ...fields }] });
  const [job] = config.exports;
  if (job === undefined) throw new Error('no job');
  return job;
}

let serial = 0;
/** A blob as the feed hands it: JSON text parsed (so `__proto__` is an own key), checked as a stored blob. */
function blob(fields: Record<string, unknown> | string): StoredBlob {
  const json = typeof fields === 'string' ? fields : JSON.stringify({ _id: `b${++serial}`, timestamp: 1_338_000_000, ...fields });
  const parsed: unknown = JSON.parse(json);
  StoredBlobSchema.parse(parsed);
  return parsed as StoredBlob;
}

/** A row's cells by column name, for reading tests. */
function cellsByName(columns: readonly Column[], row: Row): Record<string, unknown> {
  return Object.fromEntries(columns.map((column, i) => [column.name, row.cells[i]]));
}

const signIn = {
  lang: 'en-US',
  screen_size: { width: 1280, height: 800 },
  user_agent: { os: 'Macintosh', browser: 'Firefox', version: '15.0' },
  number_emails: 2,
  new_account: false,
  sample_rate: 0.5,
  event_stream: [
    ['screen.rp_info', 0],
    ['window.dom_loaded', 243],
  ],
};

describe('the fixed columns', () => {
  it('gives _id, timestamp as posted, and at read as seconds or milliseconds', () => {
    const shaper = new RowShaper(jobOf({ infer: false }), []);
    const seconds = shaper.shape(blob({ _id: 'a', timestamp: 1_338_000_000 }));
    const millis = shaper.shape(blob({ _id: 'b', timestamp: 1_338_000_000_250 }));
    expect([seconds.id, seconds.timestamp, seconds.at.toISOString(), seconds.extra]).toEqual(['a', 1_338_000_000, '2012-05-26T02:40:00.000Z', null]);
    expect([millis.id, millis.timestamp, millis.at.toISOString()]).toEqual(['b', 1_338_000_000_250, '2012-05-26T02:40:00.250Z']);
    expect(shaper.columns).toEqual([]);
  });
});

describe('declared columns', () => {
  const job = jobOf({
    infer: false,
    columns: {
      lang: 'text',
      browser: { path: 'user_agent.browser', type: 'text' },
      emails: { path: 'number_emails', type: 'bigint' },
      rate: { path: 'sample_rate', type: 'double' },
      fresh: { path: 'new_account', type: 'boolean' },
      screen: { path: 'screen_size', type: 'json' },
      first: { path: 'event_stream.0', type: 'json' },
    },
  });

  it('reads each by its path, in the declared order, with its type; a json cell is the JSON text', () => {
    const shaper = new RowShaper(job, []);
    expect(shaper.columns.map(({ name, path, type }) => `${name}:${path.join('.')}:${type}`)).toEqual([
      'lang:lang:text',
      'browser:user_agent.browser:text',
      'emails:number_emails:bigint',
      'rate:sample_rate:double',
      'fresh:new_account:boolean',
      'screen:screen_size:json',
      'first:event_stream.0:json',
    ]);
    const row = shaper.shape(blob(signIn));
    expect(row.cells).toEqual(['en-US', 'Firefox', 2, 0.5, false, '{"width":1280,"height":800}', '["screen.rp_info",0]']);
    // what no column took stays, under its path; an array a column read part of stays whole
    expect(row.extra).toEqual({ user_agent: { os: 'Macintosh', version: '15.0' }, event_stream: signIn.event_stream });
  });

  it('gives NULL for a missing field or a missing step of a path, and keeps what stood in the path', () => {
    const shaper = new RowShaper(job, []);
    const none = shaper.shape(blob({}));
    expect(none.cells).toEqual([null, null, null, null, null, null, null]);
    expect(none.extra).toBeNull();
    const odd = shaper.shape(blob({ user_agent: 'Firefox/15', event_stream: [] }));
    expect(cellsByName(shaper.columns, odd)).toMatchObject({ browser: null, first: null });
    expect(odd.extra).toEqual({ user_agent: 'Firefox/15', event_stream: [] });
    // null is NULL, like absent; an object the columns took all of leaves nothing, an empty one stays
    expect(shaper.shape(blob({ lang: null, user_agent: { browser: 'Chrome' } })).extra).toBeNull();
    expect(shaper.shape(blob({ user_agent: {} })).extra).toEqual({ user_agent: {} });
    expect(shaper.shape(blob({ user_agent: null })).extra).toEqual({ user_agent: null });
  });

  it('puts a value that does not fit its column into extra, under its field, as it was', () => {
    const shaper = new RowShaper(job, []);
    const row = shaper.shape(blob({ lang: 7, user_agent: { browser: ['Firefox'], os: 'Linux' }, number_emails: '2', sample_rate: '0.5', new_account: 'no' }));
    expect(row.cells).toEqual([null, null, null, null, null, null, null]);
    expect(row.extra).toEqual({ lang: 7, user_agent: { browser: ['Firefox'], os: 'Linux' }, number_emails: '2', sample_rate: '0.5', new_account: 'no' });
  });

  it('bigint holds integers in [-2^63, 2^63): 2^63, 1.5 and beyond go to extra; past 2^53 JSON has already rounded', () => {
    const shaper = new RowShaper(jobOf({ infer: false, columns: { n: 'bigint' } }), []);
    const shaped = ['9223372036854775808', '-9223372036854775808', '9223372036854774784', '9007199254740993', '1.5', '1e300', '-0', '1.0'].map((n) =>
      shaper.shape(blob(`{"_id":"n","timestamp":1,"n":${n}}`)),
    );
    expect(shaped.map((row) => row.cells[0])).toEqual([null, -(2 ** 63), 2 ** 63 - 1024, 9_007_199_254_740_992, null, null, -0, 1]);
    expect(shaped.map((row) => row.extra)).toEqual([{ n: 2 ** 63 }, null, null, null, { n: 1.5 }, { n: 1e300 }, null, null]);
  });

  it('text takes strings unchanged (unicode, spreadsheet formulas) but not U+0000 or a lone surrogate, which no destination stores as text', () => {
    const shaper = new RowShaper(jobOf({ infer: false, columns: { s: 'text' } }), []);
    const kept = ["=cmd|' /C calc'!A0", '+1', '-1', '@SUM(A1)', 'Grüße, 日本語, 🎉', '', 'a\ud83c\udf89b'];
    for (const s of kept) expect(shaper.shape(blob({ s })).cells[0]).toBe(s);
    for (const s of ['nul\u0000', 'lone \ud800 surrogate', '\udc00']) {
      const row = shaper.shape(blob({ s }));
      expect([row.cells[0], row.extra]).toEqual([null, { s }]);
    }
  });

  it('timestamptz takes ISO dates, date-times with an offset and unix time (seconds or ms); other text goes to extra', () => {
    const shaper = new RowShaper(jobOf({ infer: false, columns: { t: 'timestamptz' } }), []);
    const cell = (t: unknown) => {
      const row = shaper.shape(blob({ t }));
      return row.cells[0] instanceof Date ? row.cells[0].toISOString() : row.extra;
    };
    expect(cell('2026-01-31')).toBe('2026-01-31T00:00:00.000Z');
    expect(cell('2026-01-31T10:00:00+02:00')).toBe('2026-01-31T08:00:00.000Z');
    expect(cell(1_338_000_000)).toBe('2012-05-26T02:40:00.000Z');
    expect(cell(1_338_000_000_001)).toBe('2012-05-26T02:40:00.001Z');
    for (const t of ['yesterday', '2026-01-31T10:00:00', '2026-02-30', '0000-01-01', 'Sat, 26 May 2012 02:40:00 GMT', -1, 1.5, 9_007_199_254_740_991, true, {}])
      expect(cell(t)).toEqual({ t });
  });

  it('double and boolean take only their own kind', () => {
    const shaper = new RowShaper(jobOf({ infer: false, columns: { d: 'double', b: 'boolean' } }), []);
    expect(shaper.shape(blob({ d: 3, b: true })).cells).toEqual([3, true]);
    expect(shaper.shape(blob({ d: 2 ** 80, b: false })).cells).toEqual([2 ** 80, false]);
    const row = shaper.shape(blob({ d: 'NaN', b: 1 }));
    expect([row.cells, row.extra]).toEqual([[null, null], { d: 'NaN', b: 1 }]);
  });

  it('reads only a blob`s own fields: a column named like an Object.prototype member finds nothing on a blob without it', () => {
    const shaper = new RowShaper(jobOf({ infer: false, columns: { constructor: 'text', toString: 'json', len: { path: 'list.length', type: 'bigint' } } }), []);
    const row = shaper.shape(blob({ list: [1, 2, 3] }));
    expect(row.cells).toEqual([null, null, null]);
    expect(row.extra).toEqual({ list: [1, 2, 3] });
    expect(shaper.shape(blob({ constructor: 'c' })).cells[0]).toBe('c');
  });
});

describe('undeclared fields', () => {
  it('go to extra when inference is off, nested objects by reference', () => {
    const shaper = new RowShaper(jobOf({ infer: false, columns: { lang: 'text' } }), []);
    const source = blob(signIn);
    const row = shaper.shape(source);
    const { lang: _lang, ...rest } = signIn;
    expect(row.extra).toEqual(rest);
    expect(row.extra?.user_agent).toBe(source.user_agent);
  });

  it('keep a "__proto__" key as a field, anywhere, and pollute no prototype', () => {
    const shaper = new RowShaper(jobOf({ infer: false, columns: { ua: { path: 'ua.browser', type: 'text' } } }), []);
    const top = JSON.parse('{"_id":"p","timestamp":1,"__proto__":{"polluted":true},"ua":{"browser":"x","__proto__":{"polluted":true}}}') as StoredBlob;
    const row = shaper.shape(top);
    expect(row.cells).toEqual(['x']);
    expect(JSON.stringify(row.extra)).toBe('{"__proto__":{"polluted":true},"ua":{"__proto__":{"polluted":true}}}');
    expect(Object.getPrototypeOf(row.extra)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('inference', () => {
  it('adds a nullable column per new top-level field, its type from the first value', () => {
    const shaper = new RowShaper(jobOf({ columns: { browser: { path: 'user_agent.browser', type: 'text' } } }), []);
    const row = shaper.shape(blob({ ...signIn, big: 2 ** 60, unicode: 'ß' }));
    const columns = shaper.seal([row]);
    expect(columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'browser:text',
      'lang:text',
      'screen_size:json',
      'number_emails:bigint',
      'new_account:boolean',
      'sample_rate:double',
      'event_stream:json',
      'big:double',
      'unicode:text',
    ]);
    // user_agent feeds a declared column: it makes none of its own, and what the column left stays in extra
    expect(row.extra).toEqual({ user_agent: { os: 'Macintosh', version: '15.0' } });
    expect(cellsByName(columns, row)).toMatchObject({ browser: 'Firefox', lang: 'en-US', number_emails: 2, event_stream: JSON.stringify(signIn.event_stream) });
  });

  it('makes no column from null (its type is unknown): the null stays in extra until a value comes', () => {
    const shaper = new RowShaper(jobOf({}), []);
    const first = shaper.shape(blob({ note: null }));
    expect([shaper.columns, first.extra]).toEqual([[], { note: null }]);
    const second = shaper.shape(blob({ note: 'hi' }));
    const third = shaper.shape(blob({ note: null }));
    const columns = shaper.seal([first, second, third]);
    expect(columns).toEqual([{ name: 'note', path: ['note'], type: 'text' }]);
    expect([first, second, third].map((row) => [row.cells, row.extra])).toEqual([
      [[null], { note: null }],
      [['hi'], null],
      [[null], null],
    ]);
  });

  it('a field whose type changes keeps its column; the values of the new type go to extra', () => {
    const shaper = new RowShaper(jobOf({}), []);
    const rows = [{ n: 1 }, { n: 2.5 }, { n: '3' }, { n: [4] }, { n: 5 }].map((fields) => shaper.shape(blob(fields)));
    expect(shaper.seal(rows)).toEqual([{ name: 'n', path: ['n'], type: 'bigint' }]);
    expect(rows.map((row) => row.cells[0])).toEqual([1, null, null, null, 5]);
    expect(rows.map((row) => row.extra)).toEqual([null, { n: 2.5 }, { n: '3' }, { n: [4] }, null]);
  });

  it('seal gives rows shaped before a column was added a NULL for it; the columns handed out do not change after', () => {
    const shaper = new RowShaper(jobOf({}), []);
    const a = shaper.shape(blob({ x: 1 }));
    const before = shaper.columns;
    const b = shaper.shape(blob({ x: 2, y: 'y' }));
    const c = shaper.shape(blob({ z: true }));
    expect([a.cells.length, b.cells.length, c.cells.length]).toEqual([1, 2, 3]);
    const columns = shaper.seal([a, b, c]);
    expect(columns.map((column) => column.name)).toEqual(['x', 'y', 'z']);
    expect([a.cells, b.cells, c.cells]).toEqual([
      [1, null, null],
      [2, 'y', null],
      [null, null, true],
    ]);
    expect(before.map((column) => column.name)).toEqual(['x']);
    // the next batch, with no new field: its columns are the same, its rows complete
    const d = shaper.shape(blob({ y: 'd' }));
    expect(shaper.seal([d])).toEqual(columns);
    expect(d.cells).toEqual([null, 'd', null]);
  });

  it('keeps the fixed names, names only case apart, non-ASCII, long and "_" names out of the columns: such fields go to extra', () => {
    const shaper = new RowShaper(jobOf({}), []);
    const long = 'f'.repeat(64);
    const row = shaper.shape(blob({ at: 'x', extra: { a: 1 }, AT: 1, Extra: 2, Timestamp: 3, lang: 'en', Lang: 'de', größe: 4, 'a-b': 5, 'two words': 6, [long]: 7, ok_63: 8 }));
    const also = JSON.parse('{"_id":"u","timestamp":1,"_private":1,"__proto__":{"x":1}}') as StoredBlob;
    const under = shaper.shape(also);
    expect(shaper.seal([row, under]).map((column) => column.name)).toEqual(['lang', 'ok_63']);
    expect(row.extra).toEqual({ at: 'x', extra: { a: 1 }, AT: 1, Extra: 2, Timestamp: 3, Lang: 'de', größe: 4, 'a-b': 5, 'two words': 6, [long]: 7 });
    expect(JSON.stringify(under.extra)).toBe('{"_private":1,"__proto__":{"x":1}}');
  });

  it(`stops adding columns at ${MAX_COLUMNS}: fields past it go to extra`, () => {
    const shaper = new RowShaper(jobOf({}), []);
    const fields = Object.fromEntries(Array.from({ length: MAX_COLUMNS + 5 }, (_, i) => [`f${i}`, i]));
    const row = shaper.shape(blob(fields));
    expect(shaper.seal([row])).toHaveLength(MAX_COLUMNS);
    expect(row.extra).toEqual({ f1000: 1000, f1001: 1001, f1002: 1002, f1003: 1003, f1004: 1004 });
  });
});

describe('the columns a destination already has (the state across restarts)', () => {
  const existing: Column[] = [
    { name: 'os', path: ['os'], type: 'text' },
    { name: 'Browser', path: ['Browser'], type: 'text' },
    { name: 'n', path: ['n'], type: 'bigint' },
  ];

  it('come first, in the table`s order, then declared ones the table lacks, then inferred ones', () => {
    const job = jobOf({ columns: { rate: 'double', browser: { path: 'user_agent.browser', type: 'text' } } });
    const shaper = new RowShaper(job, existing);
    // `browser` is the table's `Browser` (one column to DuckDB): the table's name, the declared path
    expect(shaper.columns).toEqual([
      { name: 'os', path: ['os'], type: 'text' },
      { name: 'Browser', path: ['user_agent', 'browser'], type: 'text' },
      { name: 'n', path: ['n'], type: 'bigint' },
      { name: 'rate', path: ['rate'], type: 'double' },
    ]);
    const row = shaper.shape(blob({ os: 'Linux', user_agent: { browser: 'Firefox' }, n: 'seven', rate: 1, fresh: 'y' }));
    expect(shaper.seal([row]).map((column) => column.name)).toEqual(['os', 'Browser', 'n', 'rate', 'fresh']);
    expect([row.cells, row.extra]).toEqual([['Linux', 'Firefox', null, 1, 'y'], { n: 'seven' }]);
  });

  it('keep being filled with inference off (they are the job`s columns now)', () => {
    const shaper = new RowShaper(jobOf({ infer: false }), existing);
    const row = shaper.shape(blob({ os: 'Linux', n: 3, other: 1 }));
    expect([row.cells, row.extra]).toEqual([['Linux', null, 3], { other: 1 }]);
  });

  it('skip the fixed columns, should a destination list them', () => {
    const shaper = new RowShaper(jobOf({}), [{ name: '_id', path: ['_id'], type: 'text' }, { name: 'at', path: ['at'], type: 'timestamptz' }, ...existing]);
    expect(shaper.columns.map((column) => column.name)).toEqual(['os', 'Browser', 'n']);
  });

  it('refuse a declared column whose type differs from the table`s, naming the column and the way out', () => {
    const make = () => new RowShaper(jobOf({ columns: { n: 'double' } }), existing);
    expect(make).toThrow(DestinationError);
    expect(make).toThrow('export "signins": column "n" is declared double, but the destination\'s table already has it as bigint: declare it bigint, or export into a new table');
  });
});

describe('declared columns the shaper refuses (for a config that did not come through the schema)', () => {
  const refused = (columns: JobColumnsConfig['columns']) => () => new RowShaper({ name: 'j', infer: true, columns }, []);
  it('refuses a fixed name, names only case apart, a name too long for PostgreSQL and an empty path step', () => {
    expect(refused({ At: { type: 'text' } })).toThrow('export "j": column "At" is one of the columns every table has (_id, timestamp, at, extra)');
    expect(refused({ lang: { type: 'text' }, LANG: { type: 'text' } })).toThrow('column "LANG" is "lang" too');
    expect(refused({ ['c'.repeat(64)]: { type: 'text' } })).toThrow('longer than 63 characters');
    expect(refused({ b: { type: 'text', path: 'user_agent..browser' } })).toThrow('column "b" has an empty step in its path "user_agent..browser"');
  });
});
