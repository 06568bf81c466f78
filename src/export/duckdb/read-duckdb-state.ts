// What `export status` reads of a DuckDB destination, changing nothing: the file opened read-only
// (a missing file is not created, and no table is), the job's row of the sync table. DuckDB lets
// no other process open a file while one has it open for writing, not even to read: while an
// exporter runs, status can only say so, and what to do.
import { readFile, stat } from 'node:fs/promises';
import { DuckDBInstance, VARCHAR } from '@duckdb/node-api';
import { DestinationError, type JobState } from '../destination.js';
import type { DuckDbOptions } from './duckdb-destination.js';
import { lockHolderPid } from './duckdb-file.js';
import { SYNC_TABLE } from './sync-table.js';
import { quoteIdent } from './column-types.js';

const NOT_STARTED = { checkpoint: undefined, rows: 0 } as const;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Who holds the lock, as the line names it: an exporter when its command line says so (Linux's /proc), else the process. */
async function holder(pid: string): Promise<string> {
  const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (text) => text.split('\0'),
    (): string[] => [],
  );
  const exporter = argv.some((arg) => /kpiggybank/.test(arg)) && argv.includes('export');
  return exporter ? `a running kpiggybank export (PID ${pid})` : `another process (PID ${pid}; an exporter?)`;
}

async function openReadOnly(path: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  } catch (error) {
    const pid = lockHolderPid(message(error));
    if (pid === undefined) throw new DestinationError(`cannot read DuckDB file ${path}: ${message(error)}`);
    throw new DestinationError(
      `DuckDB file ${path} is held by ${await holder(pid)}, and DuckDB lets no other process open it meanwhile, even to read: ` +
        "the exporter's own log says where it stands; or stop it (SIGTERM: it loads the batch in hand) and run status again",
    );
  }
}

/** The job's checkpoint and rows in the file's sync table; no checkpoint and 0 rows when the file, the table or the job's row is not there yet. */
export async function readDuckDbState(options: DuckDbOptions, job: string): Promise<Pick<JobState, 'checkpoint' | 'rows'>> {
  const { path } = options;
  if (!(await exists(path))) return NOT_STARTED;
  const instance = await openReadOnly(path);
  try {
    const connection = await instance.connect();
    try {
      const tables = await connection.runAndReadAll(
        'SELECT count(*)::INTEGER FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = $1',
        [SYNC_TABLE],
        [VARCHAR],
      );
      if (tables.getRows()[0]?.[0] === 0) return NOT_STARTED;
      const reader = await connection.runAndReadAll(`SELECT seq, rows FROM ${quoteIdent(SYNC_TABLE)} WHERE job = $1`, [job], [VARCHAR]);
      const [seq, rows] = reader.getRows()[0] ?? [];
      return { checkpoint: typeof seq === 'string' ? seq : undefined, rows: Number(rows ?? 0) };
    } finally {
      connection.closeSync();
    }
  } catch (error) {
    throw new DestinationError(`cannot read the checkpoint of job ${job} in DuckDB file ${path}: ${message(error)}`);
  } finally {
    instance.closeSync();
  }
}
