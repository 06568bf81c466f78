// `kpiggybank export status`: where each job stands. The checkpoint and the rows come from the
// destination (where they are kept, with the data); how far behind it is comes from the service:
// the changes after the checkpoint, read from the feed up to the end of its history. Status changes
// nothing: each destination is read as it is (a DuckDB file read-only, PostgreSQL in a READ ONLY
// transaction), and one that holds nothing of the job yet is "not started", not created.
import type { KpiggybankClient } from 'kpiggybank-client';
import type { ExportConfig, ExportJobConfig } from './config.js';
import { namingJob } from './destination.js';
import { FeedReader } from './feed-source.js';
import { describeDestination, readJobState } from './open-destination.js';
import { formatLag } from './progress.js';
import { timestampToDate } from './timestamp.js';

/** Past this many changes behind, status stops counting (and says "at least"): it reads them all otherwise. */
const BEHIND_COUNT_CAP = 100_000;

export interface JobStatus {
  readonly job: string;
  readonly destination: string;
  readonly checkpoint: string | undefined;
  readonly rows: number | undefined;
  /** Changes after the checkpoint (deletions and filtered-out blobs included), up to BEHIND_COUNT_CAP. */
  readonly behind: number | undefined;
  readonly capped: boolean;
  /** Age of the oldest blob not loaded yet (0 when caught up): now minus its `at`. */
  readonly lagMs: number | undefined;
  /** Why the job's state could not be read, in one line (the others are still shown). */
  readonly error: string | undefined;
}

async function behindOf(client: KpiggybankClient, since: string): Promise<{ behind: number; capped: boolean; lagMs: number }> {
  const feed = new FeedReader(client, since);
  let behind = 0;
  let oldest: number | undefined;
  try {
    while (behind < BEHIND_COUNT_CAP) {
      const change = await feed.next();
      if (typeof change === 'string') break; // caught up
      behind++;
      const { doc } = change;
      if (oldest === undefined && !change.deleted && 'timestamp' in doc) oldest = timestampToDate(doc.timestamp).getTime();
    }
  } finally {
    feed.close();
  }
  return { behind, capped: behind >= BEHIND_COUNT_CAP, lagMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) };
}

async function statusOf(client: KpiggybankClient, job: ExportJobConfig): Promise<JobStatus> {
  const base = { job: job.name, destination: describeDestination(job) };
  let state: Awaited<ReturnType<typeof readJobState>>;
  try {
    state = await readJobState(job);
  } catch (error) {
    return { ...base, checkpoint: undefined, rows: undefined, behind: undefined, capped: false, lagMs: undefined, error: error instanceof Error ? error.message : String(error) };
  }
  const { behind, capped, lagMs } = await behindOf(client, state.checkpoint ?? '0');
  return { ...base, checkpoint: state.checkpoint, rows: state.rows, behind, capped, lagMs, error: undefined };
}

/** Each job's status, in the config's order. A service that cannot be read fails the whole (a SourceError). */
export async function exportStatus(config: ExportConfig, client: KpiggybankClient): Promise<JobStatus[]> {
  const statuses: JobStatus[] = [];
  for (const job of config.exports) statuses.push(await statusOf(client, job));
  return statuses;
}

/** A table, one job a line, then the jobs' destinations (the errors are the caller's to print, one line each: see statusErrors). */
export function formatStatus(statuses: readonly JobStatus[]): string {
  const header = ['job', 'checkpoint', 'rows', 'behind', 'lag'];
  const rows = statuses.map((s) => [
    s.job,
    s.error !== undefined ? '?' : (s.checkpoint ?? '(none)'),
    s.rows === undefined ? '?' : String(s.rows),
    s.behind === undefined ? '?' : `${s.capped ? '≥' : ''}${s.behind}`,
    s.lagMs === undefined ? '?' : formatLag(s.lagMs),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const notes = statuses.map(
    (s) => `  ${s.job}: ${s.destination}${s.error !== undefined ? ' (could not be read)' : s.checkpoint === undefined ? ' (not started: nothing loaded yet)' : ''}`,
  );
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${notes.join('\n')}\n`;
}

/** One line per job whose destination could not be read, naming the job. */
export function statusErrors(statuses: readonly JobStatus[]): string[] {
  return statuses.flatMap((s) => (s.error === undefined ? [] : [namingJob(s.job, s.error)]));
}
