// A part file as CSV (RFC 4180, CRLF): a header of the table's columns — `_id`, `timestamp`, `at`,
// the job's columns, `extra` — then one record per row. Text a spreadsheet would run as a formula
// is neutralised (src/formats/csv.ts, the drain's rule). Every part has its own header, written
// with the batch's columns: a column that appears later starts appearing in later parts, and a
// file never changes its header after it is written.
import { csvLine } from '../../formats/csv.js';
import { type Column, FIXED_COLUMNS, type Row } from '../destination.js';

/** The header and the rows as CSV text. */
export function csvRows(rows: readonly Row[], columns: readonly Column[]): string {
  const header = [FIXED_COLUMNS.id, FIXED_COLUMNS.timestamp, FIXED_COLUMNS.at, ...columns.map((column) => column.name), FIXED_COLUMNS.extra];
  const lines: string[] = new Array<string>(rows.length + 1);
  lines[0] = csvLine(header, 'escape');
  const values: unknown[] = new Array<unknown>(header.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    values[0] = row.id;
    values[1] = row.timestamp;
    values[2] = row.at;
    for (let c = 0; c < columns.length; c++) values[3 + c] = row.cells[c];
    values[header.length - 1] = row.extra;
    lines[r + 1] = csvLine(values, 'escape');
  }
  return lines.join('');
}
