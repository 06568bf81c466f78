// Rows in COPY's text format: one line a row, cells separated by tabs, \N for NULL, and backslash,
// newline, carriage return and tab escaped with a backslash. PostgreSQL's text (and jsonb) cannot
// hold U+0000, nor jsonb a lone UTF-16 surrogate: both are written as U+FFFD, so the row still
// loads (the only change to a value the destination makes). A value that does not fit its
// column's PostgreSQL type (a bigint past 64 bits, an invalid Date) goes into `extra` under the
// column's name instead of failing the load.
import type { Cell, Column, Row } from '../destination.js';
import { pgTimestamp } from './pg-timestamp.js';

const TEXT_SPECIAL = /[\\\n\r\t\0]/;
const TEXT_SPECIAL_ALL = /[\\\n\r\t\0]/g;
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\uFFFD' };

/** A string as one cell of COPY's text format. (A lone surrogate becomes U+FFFD when the line is encoded as UTF-8.) */
const copyText = (value: string): string => (TEXT_SPECIAL.test(value) ? value.replace(TEXT_SPECIAL_ALL, (c) => TEXT_ESCAPES[c] ?? c) : value);

// JSON.stringify writes U+0000 as \u0000 and a lone surrogate as \udXXX (a pair stays raw): both
// are escapes jsonb refuses. An escape is one only after an even run of backslashes.
const JSON_UNREPRESENTABLE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/** JSON text jsonb accepts. */
const jsonbText = (json: string): string => (json.includes('\\u') ? json.replace(JSON_UNREPRESENTABLE, '$1\\ufffd') : json);

const BIGINT_MAX = 2 ** 63;

/** A cell in COPY text for its column's type; undefined when the value does not fit the type. */
function cellText(type: Column['type'], cell: Exclude<Cell, null>): string | undefined {
  switch (type) {
    case 'text':
      return copyText(cell instanceof Date ? cell.toISOString() : String(cell));
    case 'bigint':
      return typeof cell === 'number' && Number.isInteger(cell) && Math.abs(cell) < BIGINT_MAX ? String(cell) : undefined;
    case 'double':
      return typeof cell === 'number' ? String(cell) : undefined;
    case 'boolean':
      return typeof cell === 'boolean' ? (cell ? 't' : 'f') : undefined;
    case 'timestamptz':
      return cell instanceof Date ? pgTimestamp(cell) : undefined;
    case 'json':
      // A json column's cell is its value's JSON text (see Cell).
      return copyText(jsonbText(typeof cell === 'string' ? cell : JSON.stringify(cell)));
  }
}

/** The row's `at` as timestamptz input; throws for a time PostgreSQL cannot hold (the one value that cannot go to `extra`: it places the row). */
export function atText(row: Row): string {
  const at = pgTimestamp(row.at);
  if (at === undefined) throw new RangeError(`blob ${row.id}: its time ${String(row.at)} is outside what PostgreSQL's timestamptz holds`);
  return at;
}

/** One row's line (newline included): `_id`, `timestamp`, `at`, the columns' cells, `extra`. */
function copyLine(row: Row, columns: readonly Column[]): string {
  const at = atText(row);
  let line = `${copyText(row.id)}\t${String(row.timestamp)}\t${at}`;
  let misfits: Record<string, unknown> | undefined;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as Column;
    const cell = row.cells[i] ?? null;
    const text = cell === null ? '\\N' : cellText(column.type, cell);
    if (text === undefined) {
      misfits ??= {};
      misfits[column.name] = cell instanceof Date ? String(cell) : cell;
    }
    line += `\t${text ?? '\\N'}`;
  }
  const extra = misfits ? { ...row.extra, ...misfits } : row.extra;
  line += `\t${extra === null ? '\\N' : copyText(jsonbText(JSON.stringify(extra)))}\n`;
  return line;
}

/** The rows as COPY text, in chunks of about `chunkChars` characters. */
export function* copyChunks(rows: readonly Row[], columns: readonly Column[], chunkChars = 256 * 1024): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += copyLine(row, columns);
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
