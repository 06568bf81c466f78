// A job's table as DuckDB DDL: the fixed columns and the job's (an event type's, from the
// schema). The destination creates its table with this statement and `kpiggybank schema sql
// --dialect duckdb` prints it, so that a table made beforehand from the printed statement is the
// one the export would have made.
import { type Column, FIXED_COLUMNS } from '../destination.js';
import { DUCKDB_TYPES, quoteIdent } from './column-types.js';

/** `CREATE TABLE IF NOT EXISTS "<table>" (…)`. */
export function createTableSql(table: string, columns: readonly Column[]): string {
  const definitions = [
    `${quoteIdent(FIXED_COLUMNS.id)} VARCHAR NOT NULL`,
    `${quoteIdent(FIXED_COLUMNS.timestamp)} BIGINT NOT NULL`,
    `${quoteIdent(FIXED_COLUMNS.at)} TIMESTAMPTZ NOT NULL`,
    `${quoteIdent(FIXED_COLUMNS.extra)} JSON`,
    // VARCHAR has no length in DuckDB (it accepts VARCHAR(n) and ignores n): a max length makes none.
    ...columns.map((column) => `${quoteIdent(column.name)} ${DUCKDB_TYPES[column.type]}${column.notNull === true ? ' NOT NULL' : ''}`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} (${definitions.join(', ')})`;
}
