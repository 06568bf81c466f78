// A job's table as PostgreSQL DDL: the fixed columns, the job's (an event type's, from the
// schema), partitioned by range of `at`. The destination creates its table with this statement
// and `kpiggybank schema sql --dialect postgres` prints it, so that a table made beforehand from
// the printed statement is the one the export would have made.
import { type Column, FIXED_COLUMNS } from '../destination.js';
import { POSTGRES_TYPES } from './column-types.js';
import { qualified, quoteIdent } from './sql-names.js';

/** A column's PostgreSQL type: varchar(n) for a text column with a max length. */
export const postgresType = (column: Column): string => (column.type === 'text' && column.maxLength !== undefined ? `varchar(${column.maxLength})` : POSTGRES_TYPES[column.type]);

/** `CREATE TABLE IF NOT EXISTS "schema"."table" (…) PARTITION BY RANGE ("at")`; without `schema`, the table is found in the search_path (public by default). */
export function createTableSql(table: string, columns: readonly Column[], schema?: string): string {
  const definitions = [
    `${quoteIdent(FIXED_COLUMNS.id)} text NOT NULL`,
    `${quoteIdent(FIXED_COLUMNS.timestamp)} bigint NOT NULL`,
    `${quoteIdent(FIXED_COLUMNS.at)} timestamptz NOT NULL`,
    `${quoteIdent(FIXED_COLUMNS.extra)} jsonb`,
    ...columns.map((column) => `${quoteIdent(column.name)} ${postgresType(column)}${column.notNull === true ? ' NOT NULL' : ''}`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${schema === undefined ? quoteIdent(table) : qualified(schema, table)} (${definitions.join(', ')}) PARTITION BY RANGE (${quoteIdent(FIXED_COLUMNS.at)})`;
}
