import { type StoredBlob, StoredBlobSchema } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { ExportConfigSchema } from '../../src/export/config.js';
import { compileFilter, emptyRangeReason } from '../../src/export/filter.js';

/** A job's filter as the config file's schema gives it (defaults, checks and all). */
function filterOf(filter: Record<string, unknown>) {
  const config = ExportConfigSchema.parse({ exports: [{ name: 'job', destination: { kind: 'duckdb', path: 'x.duckdb' }, filter }] });
  const [job] = config.exports;
  if (job === undefined) throw new Error('no job');
  return job.filter;
}

/** A blob as the feed hands it: JSON text parsed, checked as a stored blob. */
function blob(fields: Record<string, unknown>, json = JSON.stringify({ _id: 'b', timestamp: 1_338_000_000, ...fields })): StoredBlob {
  const parsed: unknown = JSON.parse(json);
  StoredBlobSchema.parse(parsed);
  return parsed as StoredBlob;
}

const kept = (filter: Record<string, unknown>, blobs: StoredBlob[]): boolean[] => blobs.map(compileFilter(filterOf(filter)));

describe('compileFilter', () => {
  it('keeps every blob when the job has no filter', () => {
    expect(kept({}, [blob({}), blob({ event: 'x' }), blob({}, '{"_id":"z","timestamp":0}')])).toEqual([true, true, true]);
  });

  it('allow: keeps a blob whose field (a dotted path) holds a listed value; a blob without it is dropped', () => {
    const filter = { allow: { field: 'event.name', values: ['signin', 'signup'] } };
    expect(
      kept(filter, [
        blob({ event: { name: 'signin' } }),
        blob({ event: { name: 'signup' } }),
        blob({ event: { name: 'logout' } }),
        blob({ event: { name: 'SIGNIN' } }),
        blob({ event: 'signin' }),
        blob({}),
        blob({ event: { name: null } }),
        blob({ event: { name: ['signin'] } }),
        blob({ event: { name: { signin: true } } }),
      ]),
    ).toEqual([true, true, false, false, false, false, false, false, false]);
  });

  it('compares numbers and strings by their text, booleans as booleans', () => {
    expect(
      kept({ allow: { field: 'v', values: [42, '7', true] } }, [
        blob({ v: 42 }),
        blob({ v: '42' }),
        blob({ v: 7 }),
        blob({ v: '7' }),
        blob({ v: true }),
        blob({ v: 'true' }),
        blob({ v: 1 }),
        blob({ v: 42.5 }),
      ]),
    ).toEqual([true, true, true, true, true, false, false, false]);
  });

  it('ignore: drops the blobs of the listed identities; a blob without the identity field is kept', () => {
    const filter = { ignore: { field: 'user.email', values: ['qa@example.com', 1001] } };
    expect(
      kept(filter, [blob({ user: { email: 'qa@example.com' } }), blob({ user: { email: '1001' } }), blob({ user: { email: 'ann@example.com' } }), blob({ user: {} }), blob({})]),
    ).toEqual([false, false, true, true, true]);
  });

  it('reads only a blob`s own fields: "constructor" or "__proto__" are not found on a blob that lacks them', () => {
    expect(kept({ allow: { field: 'constructor', values: ['x'] } }, [blob({}), blob({ constructor: 'x' })])).toEqual([false, true]);
    expect(kept({ ignore: { field: 'a.__proto__', values: ['x'] } }, [blob({ a: {} }), blob({}, '{"_id":"p","timestamp":1,"a":{"__proto__":"x"}}')])).toEqual([true, false]);
    expect(kept({ allow: { field: 'list.length', values: [2] } }, [blob({ list: [1, 2] })])).toEqual([false]);
    expect(kept({ allow: { field: 'list.1', values: [2] } }, [blob({ list: [1, 2] })])).toEqual([true]);
  });

  it('a time range in seconds keeps seconds and milliseconds blobs alike, both ends included (a `to` second whole)', () => {
    const filter = { from: 1_338_000_000, to: 1_338_000_010 };
    const times = [1_337_999_999, 1_338_000_000, 1_338_000_010, 1_338_000_011, 1_337_999_999_999, 1_338_000_000_000, 1_338_000_010_999, 1_338_000_011_000];
    expect(
      kept(
        filter,
        times.map((timestamp) => blob({ timestamp })),
      ),
    ).toEqual([false, true, true, false, false, true, true, false]);
  });

  it('a time range in milliseconds, or as ISO dates (a `to` date includes its whole day, UTC)', () => {
    const ms = { from: 1_338_000_000_000, to: 1_338_000_000_500 };
    expect(
      kept(
        ms,
        [1_337_999_999_999, 1_338_000_000_000, 1_338_000_000_500, 1_338_000_000_501, 1_338_000_000].map((timestamp) => blob({ timestamp })),
      ),
    ).toEqual([false, true, true, false, true]);
    const day = { from: '2012-05-26', to: '2012-05-26' };
    const midnight = Date.UTC(2012, 4, 26);
    expect(
      kept(
        day,
        [midnight - 1, midnight, midnight + 86_399_999, midnight + 86_400_000, midnight / 1000, midnight / 1000 + 86_399].map((timestamp) => blob({ timestamp })),
      ),
    ).toEqual([false, true, true, false, true, true]);
  });

  it('a time range as ISO date-times with offsets: exact instants', () => {
    const filter = { from: '2012-05-26T04:40:00+02:00', to: '2012-05-26T02:40:10Z' };
    expect(
      kept(
        filter,
        [1_337_999_999, 1_338_000_000, 1_338_000_010, 1_338_000_010_001, 1_338_000_011].map((timestamp) => blob({ timestamp })),
      ),
    ).toEqual([false, true, true, false, false]);
    expect(kept({ from: '2012-05-26T02:40:00Z' }, [blob({ timestamp: 1_338_000_000 }), blob({ timestamp: 1_337_999_999 })])).toEqual([true, false]);
    expect(kept({ to: '2012-05-26T02:40:00Z' }, [blob({ timestamp: 1_338_000_000 }), blob({ timestamp: 1_338_000_001 })])).toEqual([true, false]);
  });

  it('all of allow, ignore and time must hold', () => {
    const filter = { allow: { field: 'event', values: ['signin'] }, ignore: { field: 'user', values: ['qa'] }, from: 1_338_000_000 };
    expect(
      kept(filter, [
        blob({ event: 'signin', user: 'ann' }),
        blob({ event: 'signin', user: 'qa' }),
        blob({ event: 'logout', user: 'ann' }),
        blob({ event: 'signin', user: 'ann', timestamp: 1 }),
      ]),
    ).toEqual([true, false, false, false]);
  });
});

describe('emptyRangeReason', () => {
  it('says why a range whose from is after its to would export nothing', () => {
    expect(emptyRangeReason(filterOf({ from: '2026-02-01', to: '2026-01-31' }))).toMatch(/^from \(2026-02-01T00:00:00.000Z\) is after to \(2026-01-31T23:59:59.999Z\)/);
    expect(emptyRangeReason(filterOf({ from: '2026-01-31', to: '2026-01-31' }))).toBeUndefined();
    expect(emptyRangeReason(filterOf({ from: 1_338_000_000, to: 1_338_000_000 }))).toBeUndefined();
    expect(emptyRangeReason(filterOf({ from: 1_338_000_000 }))).toBeUndefined();
  });
});
