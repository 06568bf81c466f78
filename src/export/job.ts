// One export job: its feed, from the checkpoint its destination holds, through its filter and
// row shaping, into its destination one batch at a time. A batch's seq is the seq of the last
// change it covers — deletions and filtered-out blobs included — so the checkpoint moves past
// them too, and a restart reads on from exactly where the last load ended.
import type { ChangeMessage, StoredBlob } from 'kpiggybank-client';
import type { ExportJobConfig } from './config.js';
import type { Column, Destination, JobState, Row } from './destination.js';
import { parseDuration } from './duration.js';
import type { FeedWait } from './feed-source.js';

/** What turns a job's blobs into rows: its filter (filter.ts) and its row shaper (row-shape.ts), made once the destination has said its columns. */
export interface Shaping {
  /** Whether the job's filter keeps the blob. */
  keep(blob: StoredBlob): boolean;
  /** One blob as a row, its cells in the order of the columns so far (shaping may add columns). */
  shape(blob: StoredBlob): Row;
  /** Whether the row has a value in each NOT NULL column (a blob that breaks its event type may not): one that does not is skipped, and counted. */
  loadable(row: Row): boolean;
  /** The columns of a batch of these rows, each row given a NULL for columns added after it was shaped. */
  seal(rows: readonly Row[]): readonly Column[];
  /** The columns so far. */
  readonly columns: readonly Column[];
}

/** The feed as the job reads it (FeedReader). */
interface JobFeed {
  /** A change already received, or undefined. */
  poll(): ChangeMessage | undefined;
  /** Until a change is there, the catch-up ends, `deadline` passes or the job's stop signal. */
  wait(deadline?: number): Promise<FeedWait>;
  close(): void;
}

/** Told after each load. */
export interface BatchReport {
  readonly job: string;
  /** Rows of this batch, and changes it covered (deletions and filtered-out blobs included). */
  readonly rows: number;
  readonly changes: number;
  /** Blobs of this batch not loaded: no value for a NOT NULL column (see Shaping.loadable); the first one's id. */
  readonly skipped: number;
  readonly firstSkipped: string | undefined;
  readonly seq: string;
  /** Rows loaded into the destination in all, this run and earlier ones. */
  readonly totalRows: number;
  /** The newest `at` loaded so far in this run: the lag is how long ago that was. */
  readonly newest: Date | undefined;
  /** How long the load took. */
  readonly loadMs: number;
}

export interface JobOptions {
  readonly job: ExportJobConfig;
  readonly destination: Destination;
  /** The columns a table the destination makes now is created with (the job's event type's); none by default. */
  readonly tableColumns?: readonly Column[];
  /** Builds the job's shaping from the columns its destination has. */
  readonly shaping: (existing: readonly Column[]) => Shaping;
  /** Opens the job's feed from `since` (the destination's checkpoint, or "0"), its waits ended by `stop`. */
  readonly openFeed: (since: string, stop: AbortSignal) => JobFeed;
  /** Stop once caught up (`--once`) rather than follow. */
  readonly once: boolean;
  /** Aborted by SIGTERM/SIGINT: the batch in hand is loaded, then the job ends. */
  readonly stop: AbortSignal;
  readonly onOpen?: (state: JobState) => void;
  readonly onBatch?: (report: BatchReport) => void;
  readonly onCaughtUp?: () => void;
}

export interface JobSummary {
  readonly job: string;
  readonly checkpoint: string | undefined;
  readonly totalRows: number;
  /** Rows loaded by this run. */
  readonly loaded: number;
}

/** A deletion as a row, for `include_deleted`: a tombstone has no timestamp, so it is 0 (1970-01-01), and `extra` says what the row is. */
function deletionRow(id: string, columns: number): Row {
  // a mutable array: seal() gives it the cells of columns added later in its batch
  return { id, timestamp: 0, at: new Date(0), cells: new Array<null>(columns).fill(null), extra: { _deleted: true } };
}

/** A change's blob, unless the change is a deletion (whose doc is a tombstone). */
const blobOf = (change: ChangeMessage): StoredBlob | undefined => (change.deleted || !('timestamp' in change.doc) ? undefined : change.doc);

/** The changes gathered for the next load. */
class PendingBatch {
  readonly rows: Row[] = [];
  changes = 0;
  skipped = 0;
  firstSkipped: string | undefined;
  seq = '';

  constructor(readonly startedAt: number) {}
}

/** Runs one job until it is caught up (`once`), stopped, or fails (the error is thrown as it is). */
export async function runJob(options: JobOptions): Promise<JobSummary> {
  const { job, destination, once, stop } = options;
  const maxBlobs = job.batch.max_blobs;
  const maxDelayMs = parseDuration(job.batch.max_delay) ?? 1000;
  const state = await destination.open(options.tableColumns);
  options.onOpen?.(state);
  const shaping = options.shaping(state.columns);
  let checkpoint = state.checkpoint;
  let totalRows = state.rows;
  let loaded = 0;
  let newest: Date | undefined;

  const load = async (batch: PendingBatch): Promise<void> => {
    const { rows } = batch;
    const columns = shaping.seal(rows);
    const began = performance.now();
    await destination.load({ columns, rows, seq: batch.seq });
    checkpoint = batch.seq;
    totalRows += rows.length;
    loaded += rows.length;
    for (const row of rows) if (row.timestamp !== 0 && (newest === undefined || row.at > newest)) newest = row.at;
    options.onBatch?.({
      job: job.name,
      rows: rows.length,
      changes: batch.changes,
      skipped: batch.skipped,
      firstSkipped: batch.firstSkipped,
      seq: batch.seq,
      totalRows,
      newest,
      loadMs: performance.now() - began,
    });
  };

  const feed = options.openFeed(checkpoint ?? '0', stop);
  let batch: PendingBatch | undefined;
  /** Adds a change to the batch in hand; returns the batch when it is due (full, or past its deadline). */
  const add = (change: ChangeMessage): PendingBatch | undefined => {
    batch ??= new PendingBatch(Date.now());
    const pending = batch;
    pending.changes++;
    pending.seq = change.seq;
    const blob = blobOf(change);
    if (blob === undefined) {
      if (job.include_deleted) pending.rows.push(deletionRow(change.id, shaping.columns.length));
    } else if (shaping.keep(blob)) {
      const row = shaping.shape(blob);
      if (shaping.loadable(row)) pending.rows.push(row);
      else {
        pending.skipped++;
        pending.firstSkipped ??= row.id;
      }
    }
    // a stream of changes the filter drops fills no batch: the deadline still moves the checkpoint
    const due = pending.rows.length >= maxBlobs || (pending.changes % 1024 === 0 && Date.now() >= pending.startedAt + maxDelayMs);
    return due ? pending : undefined;
  };
  try {
    while (!stop.aborted) {
      for (let change = feed.poll(); change !== undefined && !stop.aborted; change = feed.poll()) {
        const due = add(change);
        if (due === undefined) continue;
        await load(due);
        batch = undefined;
      }
      if (stop.aborted) break;
      const outcome = await feed.wait(batch === undefined ? undefined : batch.startedAt + maxDelayMs);
      if (outcome === 'change') continue;
      if (outcome === 'stopped') break;
      if (outcome === 'caught-up') {
        options.onCaughtUp?.();
        if (once) break;
      }
      // max_delay passed, or caught up: load what is gathered (even only a checkpoint move)
      if (batch !== undefined) await load(batch);
      batch = undefined;
    }
    // the batch in hand (stopped, or caught up with --once)
    if (batch !== undefined) await load(batch);
  } finally {
    feed.close();
  }
  return { job: job.name, checkpoint, totalRows, loaded };
}
