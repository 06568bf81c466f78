// The DuckDB destination, the default: a job's rows in a table of an embedded database file an
// analyst opens with no server, its checkpoint in the file's sync table. One transaction per
// batch — the checkpoint's UPDATE, the new columns, the rows (appended as data chunks: DuckDB's
// appender writes into the connection's transaction, so a ROLLBACK, or a kill -9 before COMMIT,
// leaves none of them) — so each blob is there exactly once once the export resumes from the
// checkpoint. Several jobs may load into one file: they share its instance and connection
// (duckdb-file.ts); DuckDB lets only one process write a file, and a second one gets a clear error.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ExportJobConfig } from '../config.js';
import { type Batch, type Column, type Destination, DestinationError, FIXED_COLUMNS, type JobState } from '../destination.js';
import { type TableColumn, dataChunks } from './chunk-rows.js';
import { columnTypeOf, DUCKDB_TYPES, quoteIdent } from './column-types.js';
import { acquireDuckDbFile, type DuckDbFile } from './duckdb-file.js';
import { moveCheckpoint, openSyncRow, SYNC_TABLE } from './sync-table.js';
import { createTableSql } from './table-sql.js';

export type DuckDbOptions = Extract<ExportJobConfig['destination'], { kind: 'duckdb' }>;

/** Test seams for faults a real run cannot be made to produce at a chosen instant. */
export interface DuckDbFaults {
  /** Runs after the batch's rows, columns and checkpoint are written and before COMMIT; a throw fails the load. */
  readonly beforeCommit?: () => void | Promise<void>;
}

const FIXED = new Set<string>(Object.values(FIXED_COLUMNS));

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');

class DuckDbDestination implements Destination {
  readonly #path: string;
  readonly #job: string;
  readonly #table: string;
  readonly #faults: DuckDbFaults;
  #file: DuckDbFile | undefined;
  #state: JobState = { checkpoint: undefined, columns: [], rows: 0 };

  constructor(options: DuckDbOptions, job: string, faults: DuckDbFaults) {
    this.#path = options.path;
    this.#job = job;
    this.#table = options.table ?? job;
    this.#faults = faults;
  }

  get #where(): string {
    return `table ${this.#table} of DuckDB file ${this.#path}`;
  }

  async open(tableColumns: readonly Column[] = []): Promise<JobState> {
    if (this.#table.toLowerCase() === SYNC_TABLE) throw new DestinationError(`export "${this.#job}": table ${SYNC_TABLE} holds the checkpoints: load into another table`);
    const file = await acquireDuckDbFile(this.#path);
    this.#file = file;
    try {
      this.#state = await file.exclusive(async (connection) => {
        const { seq, rows } = await openSyncRow(connection, this.#job);
        await connection.run(createTableSql(this.#table, tableColumns));
        const found = await this.#columns(connection);
        const missing = [...FIXED].filter((name) => !found.some((column) => column.name === name));
        if (missing.length > 0) throw new Error(`the table exists without the column(s) ${missing.join(', ')}`);
        // Columns of a type the export does not write (added by someone else) are left NULL.
        const columns: Column[] = [];
        for (const { name, type, nullable } of found) {
          const columnType = columnTypeOf(type);
          if (!FIXED.has(name) && columnType) columns.push({ name, path: [name], type: columnType, ...(nullable ? {} : { notNull: true }) });
        }
        return { checkpoint: seq, columns, rows };
      });
      return this.#state;
    } catch (error) {
      await this.close();
      throw error instanceof DestinationError ? error : new DestinationError(`cannot open ${this.#where}: ${reason(error)}`);
    }
  }

  /** The table's columns in its order (DuckDB's names are case-insensitive, so is the lookup). */
  async #columns(connection: DuckDBConnection): Promise<{ name: string; type: string; nullable: boolean }[]> {
    const reader = await connection.runAndReadAll(
      `SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = current_schema() AND lower(table_name) = lower($1) ORDER BY column_index`,
      [this.#table],
    );
    return reader.getRows().map(([name, type, nullable]) => ({ name: String(name), type: String(type), nullable: nullable !== false }));
  }

  async load(batch: Batch): Promise<void> {
    const file = this.#file;
    if (!file) throw new DestinationError(`${this.#where} is not open`);
    await file.exclusive(async (connection) => {
      // Read once this load's turn comes, so that a load queued behind another starts from where that one left the job.
      const known = new Set(this.#state.columns.map((c) => c.name.toLowerCase()));
      const added = batch.columns.filter((c) => !known.has(c.name.toLowerCase()));
      const from = this.#state.checkpoint;
      try {
        await connection.run('BEGIN TRANSACTION');
        if (!(await moveCheckpoint(connection, this.#job, from, batch.seq, batch.rows.length))) {
          throw new Error(`job ${this.#job}'s checkpoint is no longer ${from ?? '(none)'}: is another exporter running this job?`);
        }
        for (const column of added) await connection.run(`ALTER TABLE ${quoteIdent(this.#table)} ADD COLUMN ${quoteIdent(column.name)} ${DUCKDB_TYPES[column.type]}`);
        if (batch.rows.length > 0) {
          const names = (await this.#columns(connection)).map((column) => column.name);
          const appender = await connection.createAppender(this.#table);
          try {
            const table: TableColumn[] = [];
            for (let i = 0; i < appender.columnCount; i++) table.push({ name: names[i] ?? '', type: appender.columnType(i) });
            for (const chunk of dataChunks(batch.rows, table, batch.columns)) appender.appendDataChunk(chunk);
            appender.flushSync();
          } catch (error) {
            // The error to report is the append's, not the close's.
            try {
              appender.closeSync();
            } catch {}
            throw error;
          }
          appender.closeSync();
        }
        await this.#faults.beforeCommit?.();
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw new DestinationError(`cannot load ${batch.rows.length} rows (up to seq ${batch.seq}) into ${this.#where}: ${reason(error)}`);
      }
      this.#state = { checkpoint: batch.seq, columns: batch.columns, rows: this.#state.rows + batch.rows.length };
    });
  }

  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.release();
  }
}

/** The DuckDB destination of job `job`: its table is `options.table`, or the job's name, in the file `options.path` (created if missing). */
export function createDuckDbDestination(options: DuckDbOptions, job: string, faults: DuckDbFaults = {}): Destination {
  return new DuckDbDestination(options, job, faults);
}
