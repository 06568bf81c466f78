// A job's filter (KMDB's whitelisted events and ignored users, Beso's time range), compiled once
// from the config into one predicate the pipeline asks of every blob. The rules, for users, are
// in docs/export.md ("Filters").
import type { StoredBlob } from 'kpiggybank-client/wire';
import { parsePath, readPath } from './blob-path.js';
import type { ExportJobConfig } from './config.js';
import { parseIsoMs } from '../formats/iso-time.js';
import { SECONDS_BELOW, timestampMs } from './timestamp.js';

type FilterConfig = ExportJobConfig['filter'];

/** Whether a blob is one the job exports. */
export type BlobFilter = (blob: StoredBlob) => boolean;

/** A bound of the time range in the config: unix time in the blobs' unit, or an ISO date or date-time. */
type TimeBound = NonNullable<FilterConfig['from']>;

/**
 * How a config value and a blob's value are compared: booleans as booleans, numbers and strings
 * by their text, so that an id listed as 42 or as "42" matches a blob's 42 and "42" alike (TOML
 * and the blobs' clients need not agree on which one an id is). Objects, arrays and null never match.
 */
function matchKey(value: unknown): string | boolean | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * The first instant a `from` bound includes, in ms. An integer is read like a blob's timestamp
 * (seconds below 1e11), so one range serves blobs posted in either unit; a date is its midnight UTC.
 */
function fromMs(bound: TimeBound): number {
  return typeof bound === 'number' ? timestampMs(bound) : isoMs(bound);
}

/**
 * The last instant a `to` bound includes, in ms: a bound in seconds includes its whole second, a
 * date its whole day (UTC), a date-time exactly itself.
 */
function toMs(bound: TimeBound): number {
  if (typeof bound === 'number') return bound < SECONDS_BELOW ? bound * 1000 + 999 : bound;
  return DATE_ONLY.test(bound) ? isoMs(bound) + 86_400_000 - 1 : isoMs(bound);
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function isoMs(text: string): number {
  const ms = parseIsoMs(text);
  // The config's schema let it through as ISO: a mismatch here is a bug, not a user's mistake.
  if (ms === undefined) throw new Error(`filter time ${JSON.stringify(text)} is not an ISO date or date-time with an offset`);
  return ms;
}

/**
 * The job's filter as one predicate: a blob passes when its `allow` field holds one of the listed
 * values (a blob without the field does not), its `ignore` field holds none of them (a blob
 * without it does), and its time (seconds or milliseconds, as a real instant) is within
 * [from, to]. With no filter, every blob passes.
 */
export function compileFilter(filter: FilterConfig): BlobFilter {
  const tests: BlobFilter[] = [];
  if (filter.allow !== undefined) {
    const path = parsePath(filter.allow.field);
    const allowed = new Set(filter.allow.values.map(matchKey));
    tests.push((blob) => {
      const key = matchKey(readPath(blob, path));
      return key !== undefined && allowed.has(key);
    });
  }
  if (filter.ignore !== undefined) {
    const path = parsePath(filter.ignore.field);
    const ignored = new Set(filter.ignore.values.map(matchKey));
    tests.push((blob) => {
      const key = matchKey(readPath(blob, path));
      return key === undefined || !ignored.has(key);
    });
  }
  if (filter.from !== undefined || filter.to !== undefined) {
    const first = filter.from === undefined ? -Infinity : fromMs(filter.from);
    const last = filter.to === undefined ? Infinity : toMs(filter.to);
    tests.push((blob) => {
      const ms = timestampMs(blob.timestamp);
      return ms >= first && ms <= last;
    });
  }
  const [one, two, three] = tests;
  if (one === undefined) return () => true;
  if (two === undefined) return one;
  if (three === undefined) return (blob) => one(blob) && two(blob);
  return (blob) => one(blob) && two(blob) && three(blob);
}

/** Why a filter's range can match nothing (`from` after `to`), or undefined: for the config's check. */
export function emptyRangeReason(filter: Pick<FilterConfig, 'from' | 'to'>): string | undefined {
  if (filter.from === undefined || filter.to === undefined) return undefined;
  const first = fromMs(filter.from);
  const last = toMs(filter.to);
  return first > last ? `from (${new Date(first).toISOString()}) is after to (${new Date(last).toISOString()}): the job would export nothing` : undefined;
}
