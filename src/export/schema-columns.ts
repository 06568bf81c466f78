// An event type of the declared schema (SCHEMA_FILE) as an export's columns: each leaf field a
// column, a nested object's fields flattened (user_agent.browser → `user_agent_browser`), its SQL
// type from the field's type, NOT NULL where the field and all the objects above it are required.
// The export of a job with `event_type` and `kpiggybank schema sql` both take their columns from
// here, so that the table the command prints is the table the export makes and loads.
import type { EventType, FieldSpec, Scalar } from 'kpiggybank-client/wire';
import { type Column, type ColumnType, DestinationError, FIXED_COLUMNS } from './destination.js';

/** PostgreSQL cuts identifiers at 63 bytes (names are ASCII here: the schema's rule). */
const MAX_COLUMN_NAME_LENGTH = 63;

/** An enum's column: the type all its values share; values of several kinds need json. */
function enumType(values: readonly Scalar[]): ColumnType {
  if (values.every((value) => typeof value === 'string')) return 'text';
  if (values.every((value) => typeof value === 'boolean')) return 'boolean';
  if (values.every((value) => typeof value === 'number')) return values.every((value) => Number.isSafeInteger(value)) ? 'bigint' : 'double';
  return 'json';
}

/** A leaf field's column type (an object with declared fields is no leaf). */
function columnType(field: FieldSpec): ColumnType {
  switch (field.type) {
    case 'string':
      return 'text';
    case 'integer':
      return 'bigint';
    case 'number':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'timestamptz';
    case 'enum':
      return enumType(field.values ?? []);
    case 'array':
    case 'object':
    case 'json':
      return 'json';
  }
}

/**
 * Where the columns go: PostgreSQL has varchar(n) and NOT NULL; DuckDB NOT NULL, but a VARCHAR
 * without length (it ignores VARCHAR(n)'s n); files neither (a file's columns have no constraint).
 */
export type SchemaDialect = 'postgres' | 'duckdb' | 'files';

/**
 * The columns of `type`'s table after the fixed ones (`_id`, `timestamp`, `at`, `extra`), in the
 * schema's order. A top-level field named `timestamp` is the fixed column (the service's own,
 * always there): it makes none. Throws DestinationError for a field whose column cannot be made:
 * a name another column has (in any case: DuckDB's names are case-insensitive), a fixed column's
 * name, or one longer than PostgreSQL keeps.
 */
export function schemaColumns(type: EventType, dialect: SchemaDialect): Column[] {
  const columns: Column[] = [];
  const taken = new Map<string, string>(Object.values(FIXED_COLUMNS).map((name) => [name, `the fixed column ${name}`]));
  const refuse = (path: readonly string[], why: string): never => {
    throw new DestinationError(`event type "${type.name}": field ${path.join('.')} ${why}`);
  };
  const visit = (fields: Readonly<Record<string, FieldSpec>>, parent: readonly string[], required: boolean) => {
    for (const [name, field] of Object.entries(fields)) {
      const path = [...parent, name];
      if (path.length === 1 && name === FIXED_COLUMNS.timestamp) continue;
      const mustHave = required && field.required;
      if (field.type === 'object' && field.fields !== undefined && Object.keys(field.fields).length > 0) {
        visit(field.fields, path, mustHave);
        continue;
      }
      const column = path.join('_');
      if (column.length > MAX_COLUMN_NAME_LENGTH) refuse(path, `would be the column ${column}, longer than the ${MAX_COLUMN_NAME_LENGTH} characters PostgreSQL keeps: rename it`);
      const other = taken.get(column.toLowerCase());
      if (other !== undefined) refuse(path, `would be the column ${column}, which is ${other} already: rename one`);
      taken.set(column.toLowerCase(), `field ${path.join('.')}'s`);
      const sqlType = columnType(field);
      columns.push({
        name: column,
        path,
        type: sqlType,
        ...(dialect === 'postgres' && sqlType === 'text' && field.max_length !== undefined ? { maxLength: field.max_length } : {}),
        ...(mustHave && dialect !== 'files' ? { notNull: true } : {}),
      });
    }
  };
  visit(type.fields, [], true);
  return columns;
}

/** A column's type as messages name it: `varchar(16) NOT NULL`, `bigint`. */
export function describeColumnType(column: Pick<Column, 'type' | 'maxLength' | 'notNull'>): string {
  const base = column.type === 'text' && column.maxLength !== undefined ? `varchar(${column.maxLength})` : column.type;
  return column.notNull === true ? `${base} NOT NULL` : base;
}

/** The type named `name` of the schema, or a DestinationError naming the declared ones. */
export function eventTypeNamed(types: readonly EventType[], name: string): EventType {
  const found = types.find((type) => type.name === name);
  if (found === undefined) throw new DestinationError(`the schema declares no event type "${name}" (it declares ${types.map((type) => `"${type.name}"`).join(', ')})`);
  return found;
}
