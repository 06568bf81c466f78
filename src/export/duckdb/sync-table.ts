// The checkpoints of the jobs loading into one DuckDB file (hauser's SyncTable): a row per job,
// its last loaded seq and row count, changed in the same transaction as the rows it covers.
import { BIGINT, type DuckDBConnection, VARCHAR } from '@duckdb/node-api';
import { quoteIdent } from './column-types.js';

/** The sync table's name, in the file's main schema (the same as the PostgreSQL destination's default). */
export const SYNC_TABLE = 'kpiggybank_sync';

const sync = quoteIdent(SYNC_TABLE);

export interface SyncRow {
  readonly seq: string | undefined;
  readonly rows: number;
}

/** Creates the sync table if missing and the job's row in it; returns where the job stands. */
export async function openSyncRow(connection: DuckDBConnection, job: string): Promise<SyncRow> {
  await connection.run(`CREATE TABLE IF NOT EXISTS ${sync} (job VARCHAR PRIMARY KEY, seq VARCHAR, rows BIGINT NOT NULL DEFAULT 0, updated_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
  await connection.run(`INSERT INTO ${sync} (job) VALUES ($1) ON CONFLICT (job) DO NOTHING`, [job], [VARCHAR]);
  const reader = await connection.runAndReadAll(`SELECT seq, rows FROM ${sync} WHERE job = $1`, [job], [VARCHAR]);
  const [seq, rows] = reader.getRows()[0] ?? [];
  return { seq: typeof seq === 'string' ? seq : undefined, rows: Number(rows ?? 0) };
}

/**
 * Moves the job's checkpoint from `from` to `to` and adds `rows`, inside the caller's
 * transaction. False when the checkpoint was not `from` (another writer of the job moved it).
 */
export async function moveCheckpoint(connection: DuckDBConnection, job: string, from: string | undefined, to: string, rows: number): Promise<boolean> {
  const result = await connection.run(
    `UPDATE ${sync} SET seq = $2, rows = rows + $3, updated_at = now() WHERE job = $1 AND seq IS NOT DISTINCT FROM $4`,
    [job, to, BigInt(rows), from ?? null],
    [VARCHAR, VARCHAR, BIGINT, VARCHAR],
  );
  return result.rowsChanged === 1;
}
