// The export's column types as DuckDB columns, and back: a reopened table's columns are the job's
// inference state, so they are read from the catalog and named in the config's terms.
import type { ColumnType } from '../destination.js';

/** The DuckDB type a column of each export type is created with. */
export const DUCKDB_TYPES: Readonly<Record<ColumnType, string>> = {
  text: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamptz: 'TIMESTAMPTZ',
  json: 'JSON',
};

/** duckdb_columns().data_type → the export's type; undefined for a type the export does not write (a column someone else added). */
export function columnTypeOf(dataType: string): ColumnType | undefined {
  switch (dataType) {
    case 'VARCHAR':
      return 'text';
    case 'BIGINT':
      return 'bigint';
    case 'DOUBLE':
      return 'double';
    case 'BOOLEAN':
      return 'boolean';
    case 'TIMESTAMP WITH TIME ZONE':
      return 'timestamptz';
    case 'JSON':
      return 'json';
    default:
      return undefined;
  }
}

/** `"name"`, with embedded quotes doubled: DuckDB reserves words such as `at`, and a table name must not inject. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
