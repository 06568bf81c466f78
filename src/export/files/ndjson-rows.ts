// A part file as NDJSON: one JSON object per row, keys in the table's order — `_id`, `timestamp`
// (as posted), `at` (ISO 8601, UTC), the job's columns (null when the blob had no value), `extra`
// (an object, or null) — so that every line has the same keys and DuckDB's read_json, pandas or
// jq see one schema. The shaped row rather than the blob as posted: the blob is `extra` plus the
// columns, and the analyst gets `at` and the declared types for free.
import { type Cell, type Column, FIXED_COLUMNS, type Row } from '../destination.js';

/**
 * `"2026-12-02T09:00:00.123Z"` for a valid date. Rows come in feed order, so neighbours mostly
 * share their second: its text is kept and only the milliseconds are written (toISOString was a
 * third of the encoding's time).
 */
class IsoDates {
  #second = Number.NaN;
  #prefix = '';

  json(date: Date): string {
    const ms = date.getTime();
    if (Number.isNaN(ms)) return 'null';
    const millis = ((ms % 1000) + 1000) % 1000;
    const second = ms - millis;
    if (second !== this.#second) {
      this.#second = second;
      const iso = date.toISOString();
      this.#prefix = `"${iso.slice(0, iso.length - 4)}`;
    }
    return `${this.#prefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z"`;
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
  // without JSON.stringify: 2.1-2.5 µs a row against 2.6-2.9 (.scratch/h-cpu/nd.ts: 100,000
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
