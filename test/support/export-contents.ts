// What each kind of export destination holds, read back as an analyst would once the exporter has
// exited: the `_id` of every row, and the job's checkpoint. For files, only the part files the
// checkpoint's commit covers count: a part is committed once `_checkpoint.json` (renamed into
// place) has a `next_part` above its number; one in `_staging/` or numbered at or past it is not
// (see src/export/files/files-destination.ts), and is reported rather than counted.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { VARCHAR } from '@duckdb/node-api';
import type pg from 'pg';
import { partFiles } from './files-reading.js';
import { withDuckDb } from './duckdb-file.js';

export interface Held {
  readonly ids: string[];
  readonly checkpoint: string | null;
  /** The rows the checkpoint says were loaded. */
  readonly rows: number;
  /** Files that are not committed parts (should be none once an export has run to its end). */
  readonly strays: string[];
}

interface FilesCheckpoint {
  checkpoint: string | null;
  rows: number;
  next_part: number;
  pending: unknown[];
}

/** The ids of every committed NDJSON part of a files destination's folder. */
export async function filesHeld(dir: string): Promise<Held> {
  const state = JSON.parse(await readFile(path.join(dir, '_checkpoint.json'), 'utf8')) as FilesCheckpoint;
  const ids: string[] = [];
  const strays: string[] = [];
  for (const [name, text] of await partFiles(dir)) {
    const number = /(?:^|\/)part-(\d+)\.ndjson$/.exec(name)?.[1];
    if (number === undefined || Number(number) >= state.next_part) {
      strays.push(name);
      continue;
    }
    for (const line of text.split('\n')) if (line !== '') ids.push((JSON.parse(line) as { _id: string })._id);
  }
  for (const name of await readdir(path.join(dir, '_staging')).catch(() => [])) strays.push(`_staging/${name}`);
  return { ids, checkpoint: state.checkpoint, rows: state.rows, strays };
}

/** The ids of a DuckDB destination's table and its job's sync row (the file opened after the exporter exited: one process writes it at a time). */
export function duckDbHeld(file: string, table: string, job: string): Promise<Held> {
  return withDuckDb(file, async (connection) => {
    const ids = (await connection.runAndReadAll(`SELECT _id FROM "${table}"`)).getRows().map(([id]) => String(id));
    const [seq, rows] = (await connection.runAndReadAll('SELECT seq, rows FROM kpiggybank_sync WHERE job = $1', [job], [VARCHAR])).getRows()[0] ?? [];
    return { ids, checkpoint: seq === null || seq === undefined ? null : String(seq), rows: Number(rows ?? 0), strays: [] };
  });
}

/** The ids of a PostgreSQL destination's table (every partition) and its job's sync row. */
export async function postgresHeld(client: pg.Client, schema: string, table: string, job: string): Promise<Held> {
  const ids = (await client.query<{ _id: string }>(`SELECT _id FROM "${schema}"."${table}"`)).rows.map((row) => row._id);
  const sync = (await client.query<{ seq: string | null; rows: string }>(`SELECT seq, rows FROM "${schema}".kpiggybank_sync WHERE job = $1`, [job])).rows[0];
  return { ids, checkpoint: sync?.seq ?? null, rows: Number(sync?.rows ?? 0), strays: [] };
}

/** How a destination's ids differ from exactly once each of `expected`: empty lists when they do not. */
export interface Tally {
  readonly count: number;
  readonly distinct: number;
  /** Ids held more than once (the first few). */
  readonly duplicates: string[];
  /** Expected ids not held (the first few), and how many in all. */
  readonly missing: string[];
  readonly missingCount: number;
  /** Ids held that were never expected (the first few). */
  readonly unexpected: string[];
}

const FEW = 5;

/** `ids` against `expected`: every expected id exactly once, and no other. */
export function tally(ids: readonly string[], expected: ReadonlySet<string>): Tally {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const unexpected: string[] = [];
  for (const id of ids) {
    if (seen.has(id)) {
      if (duplicates.length < FEW) duplicates.push(id);
    } else seen.add(id);
    if (!expected.has(id) && unexpected.length < FEW) unexpected.push(id);
  }
  const missing: string[] = [];
  let missingCount = 0;
  for (const id of expected)
    if (!seen.has(id)) {
      missingCount++;
      if (missing.length < FEW) missing.push(id);
    }
  return { count: ids.length, distinct: seen.size, duplicates, missing, missingCount, unexpected };
}
