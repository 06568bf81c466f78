// One DuckDB database file, shared by the jobs of this process that load into it. DuckDB lets a
// single process open a file for writing (it holds an fcntl lock on it), and within a process a
// second instance on the same file would not see the first's writes: so each file has one
// instance and one connection here, reference-counted by the jobs using it, and the jobs'
// transactions on it run one at a time (a queue), never interleaved on the shared connection.
import { resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DestinationError } from '../destination.js';

export interface DuckDbFile {
  /** Runs `work` on the file's connection once the work queued before it is done. */
  exclusive<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T>;
  /** The job no longer uses the file: the last one out closes it (DuckDB checkpoints its WAL then). */
  release(): Promise<void>;
}

interface Shared {
  readonly connection: DuckDBConnection;
  readonly instance: DuckDBInstance;
  refs: number;
  /** Set when the last job released it: a job acquiring it at that moment opens it anew. */
  closed: boolean;
  /** The end of the queue: resolves when the last work queued has settled. */
  tail: Promise<unknown>;
}

/**
 * The exporter's instance only appends, a batch at a time: its buffer pool need not hold the file
 * it has written (DuckDB's default is 80 % of the machine's memory). Measured (bench/export.ts,
 * DuckDB, default batch.max_blobs 10,000): 1,000,000 blobs 643 -> 471 MiB peak RSS; 300,000
 * blobs, alternating runs, 336-365 -> 311-327 MiB, blobs/s within the noise. A batch larger than
 * the pool still loads (400,000 rows in one load, tried).
 */
const EXPORTER_SETTINGS = { memory_limit: '64MB' };

/** Open files, by absolute path; a pending open is shared too, so that two jobs starting together get one instance. */
const open = new Map<string, Promise<Shared>>();

/** The process holding the file, from DuckDB's lock message: "Could not set lock on file … Conflicting lock is held in /usr/bin/node (PID 123)". */
export const lockHolderPid = (message: string): string | undefined => /Conflicting lock is held in .*\(PID (\d+)\)/.exec(message)?.[1];

/** DuckDB's lock message as one line to act on. */
function openError(path: string, error: unknown): DestinationError {
  const message = error instanceof Error ? error.message : String(error);
  const pid = lockHolderPid(message);
  if (pid !== undefined) {
    return new DestinationError(
      `cannot open DuckDB file ${path}: another process (PID ${pid}) has it open, and DuckDB lets one process write a file at a time: stop that process (another exporter?), or give this export another path`,
    );
  }
  return new DestinationError(`cannot open DuckDB file ${path}: ${message}`);
}

async function create(path: string): Promise<Shared> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, EXPORTER_SETTINGS);
  } catch (error) {
    throw openError(path, error);
  }
  try {
    return { instance, connection: await instance.connect(), refs: 0, closed: false, tail: Promise.resolve() };
  } catch (error) {
    instance.closeSync();
    throw openError(path, error);
  }
}

/** The file at `path` (created if missing), for one job; release() it when done. */
export async function acquireDuckDbFile(path: string): Promise<DuckDbFile> {
  const key = resolve(path);
  let shared: Shared;
  do {
    let pending = open.get(key);
    if (pending === undefined) {
      pending = create(key);
      open.set(key, pending);
      pending.catch(() => open.delete(key));
    }
    shared = await pending;
  } while (shared.closed);
  shared.refs += 1;
  let released = false;
  return {
    exclusive<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
      if (released) return Promise.reject(new DestinationError(`DuckDB file ${key} is closed`));
      const result = shared.tail.then(() => work(shared.connection));
      shared.tail = result.catch(() => undefined);
      return result;
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      await shared.tail;
      shared.refs -= 1;
      if (shared.refs > 0) return;
      shared.closed = true;
      open.delete(key);
      shared.connection.closeSync();
      shared.instance.closeSync();
    },
  };
}
