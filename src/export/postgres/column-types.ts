// The export's column types as PostgreSQL columns, and back: a reopened table's columns are the
// job's inference state, so they are read from information_schema and named in the config's terms.
import type { ColumnType } from '../destination.js';

/** The PostgreSQL type a column of each export type is created with. */
export const POSTGRES_TYPES: Readonly<Record<ColumnType, string>> = {
  text: 'text',
  bigint: 'bigint',
  double: 'double precision',
  boolean: 'boolean',
  timestamptz: 'timestamptz',
  json: 'jsonb',
};

/** information_schema.columns.data_type → the export's type (varchar(n) is text, its length read beside it); undefined for a type the export does not write (a column someone else added). */
export function columnTypeOf(dataType: string): ColumnType | undefined {
  switch (dataType) {
    case 'text':
    case 'character varying':
      return 'text';
    case 'bigint':
      return 'bigint';
    case 'double precision':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'timestamp with time zone':
      return 'timestamptz';
    case 'jsonb':
    case 'json':
      return 'json';
    default:
      return undefined;
  }
}
