// What an export run shows while it works: on a terminal, a line per job redrawn in place
// (cli-progress: blobs loaded, blobs/s, lag, catching up or live); otherwise one log line per batch.
//
// Lag is the age of the newest blob loaded so far: now minus its `at` (its timestamp as an instant).
// While catching up it says how far back in time the export has got; once live, how long ago the
// last loaded blob was posted (it grows while no blob arrives: the service is quiet).
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { JobState } from './destination.js';
import type { LogSink } from './export-log.js';
import type { BatchReport } from './job.js';

/** "850ms", "42s", "3m05s", "2h10m", "4d3h". */
export function formatLag(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

/** Blobs per second over the last few seconds of loads (a run's whole average would hide a stall). */
class Rate {
  readonly #samples: { at: number; total: number }[] = [];
  #total = 0;

  add(rows: number, now: number): void {
    this.#total += rows;
    this.#samples.push({ at: now, total: this.#total });
    while (this.#samples.length > 2 && (this.#samples[0]?.at ?? now) < now - 5000) this.#samples.shift();
  }

  get total(): number {
    return this.#total;
  }

  perSecond(now: number): number {
    const first = this.#samples[0];
    if (first === undefined || now - first.at <= 0) return 0;
    // the first sample's rows were loaded before its instant: count from it
    return ((this.#total - first.total) * 1000) / (now - first.at);
  }
}

export interface Progress {
  opened(job: string, state: JobState, where: string): void;
  batch(report: BatchReport): void;
  caughtUp(job: string): void;
  /** The run ends: a bar is drawn one last time and the terminal given back. */
  stop(): void;
}

interface JobLine {
  readonly rate: Rate;
  newest: Date | undefined;
  phase: 'catching up' | 'live' | 'stopping';
  bar?: cliProgress.SingleBar;
}

const lagOf = (newest: Date | undefined, now: number): string => (newest === undefined ? '-' : formatLag(now - newest.getTime()));

/** One log line per batch (for a pipe, a file, a service manager's journal). */
class LineProgress implements Progress {
  readonly #jobs = new Map<string, JobLine>();

  constructor(protected readonly log: Logger) {}

  opened(job: string, state: JobState, where: string): void {
    this.#jobs.set(job, { rate: new Rate(), newest: undefined, phase: 'catching up' });
    this.log.info(
      { job, destination: where, checkpoint: state.checkpoint ?? null, rows: state.rows },
      state.checkpoint === undefined ? 'starting from the beginning of the feed' : 'resuming after the checkpoint',
    );
  }

  batch(report: BatchReport): void {
    const line = this.#line(report.job);
    const now = Date.now();
    line.rate.add(report.rows, now);
    line.newest = report.newest;
    this.log.info(
      {
        job: report.job,
        rows: report.rows,
        changes: report.changes,
        seq: report.seq,
        total_rows: report.totalRows,
        blobs_per_s: Math.round(line.rate.perSecond(now)),
        lag_s: report.newest === undefined ? null : Math.round((now - report.newest.getTime()) / 1000),
        load_ms: Math.round(report.loadMs),
      },
      'loaded',
    );
  }

  caughtUp(job: string): void {
    this.#line(job).phase = 'live';
    this.log.info({ job }, 'caught up');
  }

  stop(): void {}

  #line(job: string): JobLine {
    let line = this.#jobs.get(job);
    if (line === undefined) {
      line = { rate: new Rate(), newest: undefined, phase: 'catching up' };
      this.#jobs.set(job, line);
    }
    return line;
  }
}

/** A line per job, redrawn in place on the terminal; log lines print above it. */
class BarProgress implements Progress {
  readonly #bars: cliProgress.MultiBar;
  readonly #jobs = new Map<string, JobLine>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly log: Logger,
    private readonly sink: LogSink,
  ) {
    this.#bars = new cliProgress.MultiBar(
      { format: '{job} | {phase} | {blobs} blobs | {rate} blobs/s | lag {lag}', stream: process.stderr, hideCursor: true, clearOnComplete: false, autopadding: true, fps: 5 },
      cliProgress.Presets.legacy,
    );
    sink.route((text) => this.#bars.log(text.endsWith('\n') ? text : `${text}\n`));
    // the lag grows between batches: redraw it each second
    this.#timer = setInterval(() => this.#redraw(), 1000);
    this.#timer.unref();
  }

  opened(job: string, state: JobState, where: string): void {
    const line: JobLine = { rate: new Rate(), newest: undefined, phase: 'catching up' };
    line.bar = this.#bars.create(1, 0, this.#payload(job, line, Date.now()));
    this.#jobs.set(job, line);
    this.log.info(
      { job, destination: where, checkpoint: state.checkpoint ?? null, rows: state.rows },
      state.checkpoint === undefined ? 'starting from the beginning of the feed' : 'resuming after the checkpoint',
    );
  }

  batch(report: BatchReport): void {
    const line = this.#jobs.get(report.job);
    if (line === undefined) return;
    line.rate.add(report.rows, Date.now());
    line.newest = report.newest;
    this.log.debug({ job: report.job, rows: report.rows, seq: report.seq, total_rows: report.totalRows }, 'loaded');
    this.#redraw();
  }

  caughtUp(job: string): void {
    const line = this.#jobs.get(job);
    if (line !== undefined) line.phase = 'live';
    this.#redraw();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#redraw();
    this.#bars.stop();
    this.sink.route(undefined);
  }

  #redraw(): void {
    const now = Date.now();
    for (const [job, line] of this.#jobs) line.bar?.update(0, this.#payload(job, line, now));
  }

  #payload(job: string, line: JobLine, now: number): Record<string, string> {
    return {
      job,
      phase: line.phase,
      blobs: line.rate.total.toLocaleString('en-US'),
      rate: Math.round(line.rate.perSecond(now)).toLocaleString('en-US'),
      lag: lagOf(line.newest, now),
    };
  }
}

/** A bar on a terminal, log lines otherwise. */
export function createProgress(log: Logger, sink: LogSink, terminal: boolean): Progress {
  return terminal ? new BarProgress(log, sink) : new LineProgress(log);
}
