// A part file as NDJSON: one JSON object per row, keys in the table's order — `_id`, `timestamp`
// (as posted), `at` (ISO 8601, UTC), the job's columns (null when the blob had no value), `extra`
// (an object, or null) — so that every line has the same keys and DuckDB's read_json, pandas or
// jq see one schema. The shaped row rather than the blob as posted: the blob is `extra` plus the
// columns, and the analyst gets `at` and the declared types for free.
import { type Cell, type Column, FIXED_COLUMNS, type Row } from '../destination.js';

const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `"2026-12-02T09:00:00.123Z"` for a valid date, as toISOString writes it (checked equal for one
 * millisecond in 997 over two days at each of six instants, year 1, 9999 and ±8.64e15 ms among
 * them). Rows come in feed order, mostly many to a day: the date's text is made once per day and
 * the time of day from tables. Keeping the text per second still called toISOString once a row for
 * blobs a second or more apart (bench/export.ts's are): 1.65-1.8 µs a row against 2.0-2.2
 * (timed in process, 100,000 sign-in rows a second apart, encoded as UTF-8).
 */
class IsoDates {
  #day = Number.NaN;
  #prefix = '';

  json(date: Date): string {
    const ms = date.getTime();
    if (Number.isNaN(ms)) return 'null';
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      const iso = new Date(day * DAY_MS).toISOString();
      this.#prefix = `"${iso.slice(0, iso.indexOf('T') + 1)}`;
    }
    const inDay = ms - day * DAY_MS;
    const seconds = Math.floor(inDay / 1000);
    return `${this.#prefix}${PAD2[Math.floor(seconds / 3600)]}:${PAD2[Math.floor(seconds / 60) % 60]}:${PAD2[seconds % 60]}.${PAD3[inDay - seconds * 1000]}Z"`;
  }
}

/**
 * What JSON.stringify escapes in a string: `"`, `\`, controls (below U+0020; DEL and C1 are
 * left to it too, and come out as they are) and lone surrogates (with `u`, a pair is one code point).
 */
const NEEDS_ESCAPE = /["\\\p{Cc}\p{Cs}]/u;
const quoted = (text: string): string => (NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`);

function cellJson(cell: Cell | undefined, isJsonText: boolean): string {
  if (cell === null || cell === undefined) return 'null';
  if (typeof cell === 'string') return isJsonText ? cell : quoted(cell);
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : 'null';
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  return Number.isNaN(cell.getTime()) ? 'null' : `"${cell.toISOString()}"`;
}

/** The rows as NDJSON text, each line ended by `\n`. */
export function ndjsonRows(rows: readonly Row[], columns: readonly Column[]): string {
  // Keys are written once per part, values by hand: about twice as fast as JSON.stringify of an object per row.
  const keys = columns.map((column) => `,${JSON.stringify(column.name)}:`);
  // A json column's cell is already the value's JSON text (row-shape.ts): written as it is, not as a string.
  const jsonText = columns.map((column) => column.type === 'json');
  const head = `{${JSON.stringify(FIXED_COLUMNS.id)}:`;
  const timestampKey = `,${JSON.stringify(FIXED_COLUMNS.timestamp)}:`;
  const atKey = `,${JSON.stringify(FIXED_COLUMNS.at)}:`;
  const extraKey = `,${JSON.stringify(FIXED_COLUMNS.extra)}:`;
  const dates = new IsoDates();
  // One string grown by `+=` rather than a line each joined at the end, and plain text quoted
  // without JSON.stringify: 2.1-2.5 µs a row against 2.6-2.9 (timed in process: 100,000
  // sign-in rows of 13 columns, encoded as UTF-8 like a part, the shared 2-core machine).
  let out = '';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    out += head + quoted(row.id) + timestampKey + cellJson(row.timestamp, false) + atKey + dates.json(row.at);
    const cells = row.cells;
    for (let c = 0; c < keys.length; c++) out += keys[c] + cellJson(cells[c], jsonText[c] === true);
    out += `${extraKey}${row.extra === null ? 'null' : JSON.stringify(row.extra)}}\n`;
  }
  return out;
}
