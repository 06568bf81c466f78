// The one seam between the export pipeline and where it loads: files, DuckDB, PostgreSQL. A
// destination keeps each job's checkpoint *with* the rows it covers, so that loading a batch and
// moving the checkpoint past it happen together or not at all: that, and resuming the feed from
// the checkpoint, is what makes the export exactly once across a kill -9.

/** The SQL types an export's column can have (the config's names). */
export type ColumnType = 'text' | 'bigint' | 'double' | 'boolean' | 'timestamptz' | 'json';

/** One column of a job's table (or CSV file): its name, where its value comes from in a blob, its type. */
export interface Column {
  readonly name: string;
  /** Path into the blob, e.g. ['user_agent', 'browser']; for an inferred column, [name]. */
  readonly path: readonly string[];
  readonly type: ColumnType;
  /** text only: varchar(n), at most this many characters (a column from an event schema's string with max_length; PostgreSQL only, DuckDB's VARCHAR has no length). */
  readonly maxLength?: number;
  /** NOT NULL (a column from a required field of an event schema): a row without a value of its type is not loaded (see row-shape.ts). */
  readonly notNull?: boolean;
}

/** A cell as the destinations take it: already checked against its column's type (a json column's cell is its value's JSON text; see row-shape.ts). */
export type Cell = string | number | boolean | Date | null;

/**
 * One blob as a row. Every table has `_id` (text), `timestamp` (bigint, as posted) and `at`
 * (timestamptz, from `timestamp` read as seconds or milliseconds) first, then `cells` in the
 * order of the batch's `columns`, then `extra`: the undeclared fields and the values that did not
 * fit their column's type, as a JSON object (null when there is none) — never dropped.
 */
export interface Row {
  readonly id: string;
  readonly timestamp: number;
  readonly at: Date;
  readonly cells: readonly Cell[];
  readonly extra: Readonly<Record<string, unknown>> | null;
}

/** The fixed columns every table begins and ends with (see Row). */
export const FIXED_COLUMNS = { id: '_id', timestamp: 'timestamp', at: 'at', extra: 'extra' } as const;

/** What a destination holds for one job. */
export interface JobState {
  /** The last feed `seq` whose batch is loaded; undefined before the first load. */
  readonly checkpoint: string | undefined;
  /** The job's columns as the destination has them (created by earlier runs); [] when new. */
  readonly columns: readonly Column[];
  /** Rows loaded so far (for `export status`). */
  readonly rows: number;
}

/** One load: rows, the columns they are shaped for, and the seq the checkpoint moves to. */
export interface Batch {
  /** The job's columns for this batch: the ones the destination has, plus new ones at the end (to add as nullable). */
  readonly columns: readonly Column[];
  /** May be empty: a batch of deletions or of filtered-out blobs still moves the checkpoint. */
  readonly rows: readonly Row[];
  /** The feed seq of the last change this batch covers. */
  readonly seq: string;
}

/** A destination, opened for one job (a table, or a file set). */
export interface Destination {
  /**
   * Creates what is missing (table, sync table, folder), finishes or undoes a load a crash interrupted, and says where the job stands.
   * A table made now is created with `columns` (an event type's, so that it is the table `kpiggybank schema sql` prints); other columns are added by load().
   */
  open(columns?: readonly Column[]): Promise<JobState>;
  /** Adds the batch's new columns, loads its rows and moves the checkpoint to `batch.seq`, atomically. */
  load(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

/** A destination could not do what was asked, for a reason the user can act on (one line, no stack). */
export class DestinationError extends Error {
  override readonly name = 'DestinationError';
}

/** A job's failure in one line that names the job once: `export "web": …` (a destination's own message may name it already). */
export function namingJob(job: string, why: string): string {
  return why.startsWith(`export "${job}"`) ? why : `export "${job}": ${why}`;
}
