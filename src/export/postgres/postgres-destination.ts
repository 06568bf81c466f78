// The PostgreSQL destination: a job's rows in a table partitioned by `at` (KMDB), its checkpoint
// in a sync table (hauser's SyncTable: job, seq, rows, updated_at), both changed by one
// transaction per batch — the checkpoint's UPDATE, the partitions and columns the batch needs, and
// the rows' COPY commit together or not at all, so a kill -9 at any instant leaves each blob
// loaded exactly once once the export resumes from the checkpoint.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ExportJobConfig } from '../config.js';
import { type Batch, type Column, DestinationError, type Destination, FIXED_COLUMNS, type JobState } from '../destination.js';
import { columnTypeOf } from './column-types.js';
import { connect, reason } from './connection.js';
import { copyChunks } from './copy-text.js';
import { ensurePartitions, NO_PARTITION_HINT } from './partitions.js';
import { scrubbed, serverName } from './server-name.js';
import { MAX_IDENTIFIER_BYTES, qualified, quoteIdent } from './sql-names.js';
import { createTableSql, postgresType } from './table-sql.js';

export type PostgresOptions = Extract<ExportJobConfig['destination'], { kind: 'postgres' }>;

/** `_pYYYYMMDD` (a year may have up to 6 digits), what a partition's name adds to its table's. */
const PARTITION_SUFFIX_BYTES = 12;

const FIXED = new Set<string>(Object.values(FIXED_COLUMNS));

/** A CREATE … IF NOT EXISTS that lost a race with another exporter's (the catalog's unique index, or "already exists"). */
const lostCreateRace = (error: unknown): boolean => ['23505', '42P07'].includes((error as { code?: string }).code ?? '');

class PostgresDestination implements Destination {
  readonly #options: PostgresOptions;
  readonly #job: string;
  readonly #table: string;
  readonly #server: string;
  #client: pg.Client | undefined;
  /** Set when the connection fails between calls (pg emits it); the next call reports it. */
  #lost: unknown;
  #state: JobState = { checkpoint: undefined, columns: [], rows: 0 };
  #partitioned = true;

  constructor(options: PostgresOptions, job: string) {
    this.#options = options;
    this.#job = job;
    this.#table = options.table ?? job;
    this.#server = serverName(options.url);
  }

  get #where(): string {
    return `${this.#options.schema}.${this.#table} on PostgreSQL at ${this.#server}`;
  }

  #fail(doing: string, error: unknown): DestinationError {
    return new DestinationError(scrubbed(`${doing} ${this.#where}: ${reason(error)}`, this.#options.url));
  }

  async open(tableColumns: readonly Column[] = []): Promise<JobState> {
    const { schema, sync_table: syncTable } = this.#options;
    if (Buffer.byteLength(this.#table) > MAX_IDENTIFIER_BYTES - PARTITION_SUFFIX_BYTES) {
      throw new DestinationError(
        `table name ${JSON.stringify(this.#table)} is too long: at most ${MAX_IDENTIFIER_BYTES - PARTITION_SUFFIX_BYTES} bytes, so its partitions' names fit PostgreSQL's 63`,
      );
    }
    let client: pg.Client;
    try {
      client = await connect(this.#options.url, 'kpiggybank export', (error) => {
        this.#lost = error;
      });
    } catch (error) {
      throw this.#fail('cannot connect to load', error);
    }
    this.#client = client;
    try {
      const tolerant = (sql: string) => client.query(sql).catch((error: unknown) => (lostCreateRace(error) ? undefined : Promise.reject(error)));
      // CREATE SCHEMA IF NOT EXISTS still needs the right to create one: ask only when it is missing.
      const known = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (known.rowCount === 0) await tolerant(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      const sync = qualified(schema, syncTable);
      await tolerant(`CREATE TABLE IF NOT EXISTS ${sync} (job text PRIMARY KEY, seq text, rows bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now())`);
      await tolerant(createTableSql(this.#table, tableColumns, schema));
      await client.query(`INSERT INTO ${sync} (job) VALUES ($1) ON CONFLICT (job) DO NOTHING`, [this.#job]);
      const checkpoint = await client.query<{ seq: string | null; rows: string }>(`SELECT seq, rows FROM ${sync} WHERE job = $1`, [this.#job]);
      const kind = await client.query<{ relkind: string }>('SELECT relkind FROM pg_class WHERE oid = to_regclass($1)', [qualified(schema, this.#table)]);
      // A plain table someone created beforehand is loaded as it is, unpartitioned.
      this.#partitioned = kind.rows[0]?.relkind === 'p';
      const found = await client.query<{ name: string; type: string; length: number | null; nullable: string }>(
        'SELECT column_name AS name, data_type AS type, character_maximum_length::int AS length, is_nullable::text AS nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [schema, this.#table],
      );
      const names = new Set(found.rows.map((c) => c.name));
      const missing = [...FIXED].filter((name) => !names.has(name));
      if (missing.length > 0) throw new Error(`the table exists without the column(s) ${missing.join(', ')}`);
      // Columns of a type the export does not write (added by someone else) are left to their defaults.
      const columns: Column[] = [];
      for (const { name, type, length, nullable } of found.rows) {
        const columnType = columnTypeOf(type);
        if (FIXED.has(name) || !columnType) continue;
        columns.push({ name, path: [name], type: columnType, ...(length === null ? {} : { maxLength: length }), ...(nullable === 'NO' ? { notNull: true } : {}) });
      }
      const row = checkpoint.rows[0];
      this.#state = { checkpoint: row?.seq ?? undefined, columns, rows: Number(row?.rows ?? 0) };
      return this.#state;
    } catch (error) {
      await this.close();
      throw this.#fail('cannot open', error);
    }
  }

  async load(batch: Batch): Promise<void> {
    const client = this.#client;
    if (!client) throw new DestinationError(`${this.#where} is not open`);
    if (this.#lost !== undefined) throw this.#fail('lost the connection to', this.#lost);
    const { schema, sync_table: syncTable, partition_days: days } = this.#options;
    const table = qualified(schema, this.#table);
    const known = new Set(this.#state.columns.map((c) => c.name));
    const added = batch.columns.filter((c) => !known.has(c.name));
    try {
      await client.query('BEGIN');
      // First, so that a second exporter running the same job waits here on the row's lock, then
      // finds the checkpoint moved, rather than loading the same blobs again.
      const moved = await client.query(`UPDATE ${qualified(schema, syncTable)} SET seq = $2, rows = rows + $3, updated_at = now() WHERE job = $1 AND seq IS NOT DISTINCT FROM $4`, [
        this.#job,
        batch.seq,
        batch.rows.length,
        this.#state.checkpoint ?? null,
      ]);
      if (moved.rowCount !== 1) throw new Error(`job ${this.#job}'s checkpoint is no longer ${this.#state.checkpoint ?? '(none)'}: is another exporter running this job?`);
      if (this.#partitioned) await ensurePartitions(client, schema, this.#table, batch.rows, days);
      if (added.length > 0) {
        await client.query(`ALTER TABLE ${table} ${added.map((c) => `ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${postgresType(c)}`).join(', ')}`);
      }
      if (batch.rows.length > 0) {
        const names = [FIXED_COLUMNS.id, FIXED_COLUMNS.timestamp, FIXED_COLUMNS.at, ...batch.columns.map((c) => c.name), FIXED_COLUMNS.extra].map(quoteIdent);
        // Encoded as it streams: the server parses one chunk while this process writes the next (measured: see docs/export.md).
        await pipeline(Readable.from(copyChunks(batch.rows, batch.columns)), client.query(copyFrom(`COPY ${table} (${names.join(', ')}) FROM STDIN`)));
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((error as { code?: string }).code === '23514' && reason(error).startsWith('no partition')) {
        throw this.#fail(`cannot load ${batch.rows.length} rows (up to seq ${batch.seq}) into`, `${reason(error)}: ${NO_PARTITION_HINT}`);
      }
      throw this.#fail(`cannot load ${batch.rows.length} rows (up to seq ${batch.seq}) into`, error);
    }
    this.#state = { checkpoint: batch.seq, columns: batch.columns, rows: this.#state.rows + batch.rows.length };
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}

/** The PostgreSQL destination of job `job` (its table is `options.table`, or the job's name). */
export function createPostgresDestination(options: PostgresOptions, job: string): Destination {
  return new PostgresDestination(options, job);
}
