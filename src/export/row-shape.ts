// Blobs → Rows for one export job: the fixed columns (`_id`, `timestamp`, `at`), the job's
// columns (declared by path and type, or inferred from new top-level fields), and `extra`, which
// holds what no column took, so that nothing a blob carried is lost and no value fails a load.
// The rules, for users, are in docs/export.md ("Columns, types and schema evolution").
//
// Shaping runs once per blob in a backfill that must pass 50,000 blobs/s end to end, so the job's
// columns are compiled once (a converter per column, a tree of the fields they read) and a blob
// costs one cells array, one Row, one Date and, only when something is left over, one `extra`.
// Measured (in process, 200,000 sign-in blobs, CPU time on the shared 2-core
// machine, where JSON.stringify of one whole blob took 6.4 µs): 3 declared text columns and the
// rest in `extra`, 2-3 µs/blob; with inference (9 more columns), 11 µs/blob, of which 8 are the
// JSON text of the json columns (event_stream, screen_size), work a destination would otherwise do.
import type { StoredBlob } from 'kpiggybank-client/wire';
import { parsePath, readPath } from './blob-path.js';
import type { ExportJobConfig } from './config.js';
import { type Cell, type Column, type ColumnType, DestinationError, FIXED_COLUMNS, type Row } from './destination.js';
import { describeColumnType } from './schema-columns.js';
import { parseIsoMs } from '../formats/iso-time.js';
import { isStorableMs, timestampMs, timestampToDate } from './timestamp.js';

/** What shaping needs of a job's config. */
export type JobColumnsConfig = Pick<ExportJobConfig, 'name' | 'columns' | 'infer'>;

/**
 * Inference stops adding columns at this many (fields past it go to `extra`): blobs keyed by
 * something unbounded (a user id as a field name) must not grow a table past PostgreSQL's 1,600
 * columns and fail the load.
 */
export const MAX_COLUMNS = 1_000;

/** PostgreSQL cuts identifiers at 63 bytes, so that two longer names could become one column. */
const MAX_COLUMN_NAME_LENGTH = 63;

/** The names an inferred column may have: the config's rule for a declared one (ASCII, so any destination takes it unquoted). */
const COLUMN_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The fixed columns' names, lowercased: DuckDB's names are case-insensitive, so `At` is `at`. */
const FIXED_NAMES = new Set<string>(Object.values(FIXED_COLUMNS));

/** A value that does not fit its column's type (it goes to `extra`). */
const MISFIT = Symbol('misfit');
type Converted = Cell | typeof MISFIT;

/** ±2^63: a bigint column holds integers in [-2^63, 2^63), and 2^63 is exactly a double. */
const BIGINT_LIMIT = 2 ** 63;

/** PostgreSQL's text cannot hold U+0000, and a lone surrogate has no UTF-8 form: such a string is not text. */
const UNSTORABLE_TEXT = /[\0\p{Cs}]/u;

/**
 * A value → its cell, or MISFIT. null and absent are both NULL (and fit every type). No value is
 * coerced: a number is not text and "12" is not a bigint, so that a field whose type changes keeps
 * its new values, as they were, in `extra`. A json cell is the value's JSON text.
 */
const CONVERT: Readonly<Record<ColumnType, (value: unknown) => Converted>> = {
  text: (value) => (value == null ? null : typeof value === 'string' && !UNSTORABLE_TEXT.test(value) ? value : MISFIT),
  bigint: (value) => (value == null ? null : typeof value === 'number' && Number.isInteger(value) && value >= -BIGINT_LIMIT && value < BIGINT_LIMIT ? value : MISFIT),
  double: (value) => (value == null ? null : typeof value === 'number' && Number.isFinite(value) ? value : MISFIT),
  boolean: (value) => (value == null ? null : typeof value === 'boolean' ? value : MISFIT),
  timestamptz: (value) => {
    if (value == null) return null;
    // An ISO date or date-time with an offset, or unix time read like a blob's timestamp.
    const ms = typeof value === 'string' ? parseIsoMs(value) : typeof value === 'number' && Number.isInteger(value) && value >= 0 ? timestampMs(value) : undefined;
    return ms !== undefined && isStorableMs(ms) ? new Date(ms) : MISFIT;
  },
  json: (value) => (value == null ? null : JSON.stringify(value)),
};

/** A column's converter: its type's, and for varchar(n) a string of at most n UTF-16 units (never more characters than PostgreSQL counts). */
function converterFor(column: Column): (value: unknown) => Converted {
  const convert = CONVERT[column.type];
  const max = column.maxLength;
  if (max === undefined) return convert;
  return (value) => (typeof value === 'string' && value.length > max ? MISFIT : convert(value));
}

/** An inferred column's type, from the first non-null value of its field. */
function inferType(value: unknown): ColumnType {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'bigint' : 'double';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'boolean') return 'boolean';
  return 'json';
}

/** One column, compiled. */
interface Slot {
  readonly path: readonly string[];
  readonly convert: (value: unknown) => Converted;
}

/** A field some column reads, or holds a field a column reads ("user_agent" for "user_agent.browser"). */
interface FieldNode {
  /** The columns that take this field's whole value. */
  readonly slots: number[];
  /** The fields below it that columns read; undefined when none. */
  children: Map<string, FieldNode> | undefined;
}

type Extra = Record<string, unknown>;

/**
 * Sets a field of an `extra` object. A plain object, not Object.create(null): V8 keeps those in
 * dictionary mode, which doubled the time of shaping a blob into 3 columns and `extra`. So
 * "__proto__", which `=` would take as the prototype, is defined as an own field instead
 * (JSON.stringify writes it like any other).
 */
function setField(object: Extra, field: string, value: unknown): void {
  if (field === '__proto__') Object.defineProperty(object, field, { value, enumerable: true, writable: true, configurable: true });
  else object[field] = value;
}

/**
 * Shapes the blobs of one job into Rows. Create it with the job's config and the columns the
 * destination already has (JobState.columns, the inference state across restarts); it refuses,
 * with a DestinationError naming the column, a declared column whose type differs from the
 * table's. Then `shape` each blob, and `seal` the rows of a batch to get the batch's columns.
 *
 * Cost: see the header; a json cell's JSON text is most of it.
 */
export class RowShaper {
  readonly #job: string;
  readonly #infer: boolean;
  readonly #columns: Column[] = [];
  readonly #slots: Slot[] = [];
  readonly #fields = new Map<string, FieldNode>();
  /** Lowercased names in use, the fixed ones included. */
  readonly #taken = new Set<string>(FIXED_NAMES);
  /** Per column, whether the blob being shaped had a value that did not fit; all 0 between blobs. */
  #misfit = new Uint8Array(64);
  /** Columns were added since the last seal: the rows shaped before them are a cell short. */
  #grown = false;
  #sealed: readonly Column[] | undefined;
  /** The slots of NOT NULL columns: a row with a NULL in one is not loadable. */
  readonly #notNull: number[] = [];

  /**
   * `schema`: the columns of the job's event type (schema-columns.ts), declared instead of the
   * config's, with inference off; their type, length and NOT NULL must be the table's exactly.
   */
  constructor(job: JobColumnsConfig, existing: readonly Column[], schema?: readonly Column[]) {
    this.#job = job.name;
    this.#infer = schema === undefined && job.infer;
    const declared = new Map<string, Column>();
    for (const column of schema ?? []) declared.set(column.name.toLowerCase(), column);
    for (const [name, spec] of Object.entries(schema === undefined ? job.columns : {})) {
      const key = name.toLowerCase();
      if (FIXED_NAMES.has(key)) this.#refuse(name, `is one of the columns every table has (${[...FIXED_NAMES].join(', ')}): give it another name`);
      if (name.length > MAX_COLUMN_NAME_LENGTH) this.#refuse(name, `is longer than ${MAX_COLUMN_NAME_LENGTH} characters (PostgreSQL would cut it)`);
      const other = declared.get(key);
      if (other !== undefined) this.#refuse(name, `is "${other.name}" too, as DuckDB reads names (case-insensitively): rename one`);
      const path = parsePath(spec.path ?? name);
      if (path.some((step) => step === '')) this.#refuse(name, `has an empty step in its path ${JSON.stringify(spec.path)}`);
      declared.set(key, { name, path, type: spec.type });
    }
    // The table's columns first, in its order: rows' cells follow the batch's columns.
    for (const column of existing) {
      const key = column.name.toLowerCase();
      // A destination may list the fixed columns too; they are not the job's.
      if (this.#taken.has(key)) continue;
      const wanted = declared.get(key);
      if (wanted === undefined) {
        // A NOT NULL column no field fills would refuse every row.
        if (column.notNull === true) this.#refuse(column.name, `is NOT NULL in the destination's table, but the job declares no field for it: declare it, or drop its NOT NULL`);
        // Made by inference in an earlier run: it keeps being filled, with inference on or off.
        this.#add({ ...column, path: [column.name] });
        continue;
      }
      if (schema !== undefined && describeColumnType(wanted) !== describeColumnType(column)) {
        this.#refuse(
          wanted.name,
          `(field ${wanted.path.join('.')}) is declared ${describeColumnType(wanted)} by the event schema, but the destination's table has it as ${describeColumnType(column)}: ` +
            'a column never changes once made: export into a new table, or change the column by hand (ALTER TABLE) to the declared type',
        );
      }
      if (wanted.type !== column.type) {
        this.#refuse(
          wanted.name,
          `is declared ${wanted.type}, but the destination's table already has it as ${column.type}: declare it ${column.type}, or export into a new table (a column's type never changes once made)`,
        );
      }
      this.#add({ ...column, path: wanted.path });
      declared.delete(key);
    }
    for (const column of declared.values()) {
      // The destination made its table with the schema's columns (open): one missing was made before, and its rows have no value for it.
      if (column.notNull === true) {
        this.#refuse(
          column.name,
          `(field ${column.path.join('.')}) is required by the event schema, but the destination's table, made before, has no such column, and the rows it holds have no value for it: ` +
            'declare the field optional (a nullable column is added), or export into a new table',
        );
      }
      this.#add(column);
    }
    this.#grown = false;
  }

  /** The job's columns as they stand: the destination's, then the ones shaping added. */
  get columns(): readonly Column[] {
    this.#sealed ??= Object.freeze([...this.#columns]);
    return this.#sealed;
  }

  /** Whether the row can be loaded: a value in every NOT NULL column (a blob that breaks its schema may have none). */
  loadable(row: Row): boolean {
    for (const slot of this.#notNull) if (row.cells[slot] === null) return false;
    return true;
  }

  /** One blob as a row: its cells follow `columns`, counting any column this blob added. */
  shape(blob: StoredBlob): Row {
    const slots = this.#slots;
    const count = slots.length;
    const cells: Cell[] = new Array<Cell>(count);
    let misfits = false;
    for (let i = 0; i < count; i++) {
      const slot = slots[i] as Slot;
      const cell = slot.convert(readPath(blob, slot.path));
      if (cell === MISFIT) {
        cells[i] = null;
        this.#misfit[i] = 1;
        misfits = true;
      } else cells[i] = cell;
    }
    let extra: Extra | null = null;
    for (const field in blob) {
      if (field === FIXED_COLUMNS.id || field === FIXED_COLUMNS.timestamp) continue;
      const value = blob[field];
      const node = this.#fields.get(field);
      let rest: unknown = value;
      if (node === undefined) {
        if (this.#infer && value != null && this.#inferColumn(field, value)) {
          const cell = (slots[cells.length] as Slot).convert(value);
          cells.push(cell === MISFIT ? null : cell);
          if (cell !== MISFIT) continue;
        }
      } else if (node.children === undefined) {
        if (!misfits || this.#tookValue(node)) continue;
      } else rest = this.#remainder(value, node);
      if (rest === undefined) continue;
      extra ??= {};
      setField(extra, field, rest);
    }
    if (misfits) this.#misfit.fill(0, 0, count);
    return { id: blob._id, timestamp: blob.timestamp, at: timestampToDate(blob.timestamp), cells, extra };
  }

  /**
   * The columns for a batch of these rows (existing + new, in order), after giving a NULL cell in
   * each column added after a row was shaped. Call it once per batch, before loading.
   */
  seal(rows: readonly Row[]): readonly Column[] {
    if (this.#grown) {
      const count = this.#slots.length;
      // The rows are this shaper's own, made by shape() with mutable arrays.
      for (const row of rows) for (let cells = row.cells as Cell[]; cells.length < count; ) cells.push(null);
      this.#grown = false;
    }
    return this.columns;
  }

  /** Whether a column took the node's value (one that fitted; null and absent fit). */
  #tookValue(node: FieldNode): boolean {
    for (const slot of node.slots) if (this.#misfit[slot] === 0) return true;
    return false;
  }

  /** What of a field's value no column took, under the same paths; undefined when columns took all. */
  #remainder(value: unknown, node: FieldNode): unknown {
    if (node.slots.length > 0 && this.#tookValue(node)) return undefined;
    // An array partly read by columns ("items.0") stays whole: a sparse copy would misread as the array.
    if (node.children === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const object = value as Record<string, unknown>;
    let rest: Extra | undefined;
    let empty = true;
    for (const field in object) {
      empty = false;
      const child = node.children.get(field);
      const part = child === undefined ? object[field] : this.#remainder(object[field], child);
      if (part === undefined) continue;
      rest ??= {};
      setField(rest, field, part);
    }
    // `{}` is kept as it was; an object whose fields all went into columns leaves nothing.
    return empty ? value : rest;
  }

  /** Adds a column for a new top-level field, if it can be one; false sends the field to `extra`. */
  #inferColumn(field: string, value: unknown): boolean {
    if (this.#slots.length >= MAX_COLUMNS || field.length > MAX_COLUMN_NAME_LENGTH || !COLUMN_NAME.test(field)) return false;
    // `At`, `EXTRA` or `Lang` beside `lang` would be the same column in DuckDB: such fields stay in extra.
    if (this.#taken.has(field.toLowerCase())) return false;
    this.#add({ name: field, path: [field], type: inferType(value) });
    return true;
  }

  #add(column: Column): void {
    const index = this.#slots.length;
    this.#columns.push(column);
    this.#slots.push({ path: column.path, convert: converterFor(column) });
    if (column.notNull === true) this.#notNull.push(index);
    this.#taken.add(column.name.toLowerCase());
    let nodes = this.#fields;
    let node: FieldNode | undefined;
    for (const step of column.path) {
      node = nodes.get(step);
      if (node === undefined) {
        node = { slots: [], children: undefined };
        nodes.set(step, node);
      }
      nodes = node.children ??= new Map();
    }
    node?.slots.push(index);
    // The last step's children map was made for nothing: a leaf has none unless a deeper column adds it.
    if (node !== undefined && node.children?.size === 0) node.children = undefined;
    if (index >= this.#misfit.length) {
      const grown = new Uint8Array(this.#misfit.length * 2);
      grown.set(this.#misfit);
      this.#misfit = grown;
    }
    this.#grown = true;
    this.#sealed = undefined;
  }

  #refuse(column: string, why: string): never {
    throw new DestinationError(`export "${this.#job}": column "${column}" ${why}`);
  }
}
