// An export run: every job of the config at once, each with its own destination and its own feed
// from its own checkpoint. One job failing stops the others (each loads its batch in hand), and
// the run fails with the first failure.
import { KpiggybankClient, KpiggybankHttpError, KpiggybankNetworkError } from 'kpiggybank-client';
import type { Logger } from 'pino';
import type { ExportConfig, ExportJobConfig } from './config.js';
import { type Column, namingJob } from './destination.js';
import { type JobEventType, jobEventTypes } from './event-types.js';
import { FeedReader, SourceError } from './feed-source.js';
import { compileFilter } from './filter.js';
import { runJob, type JobSummary, type Shaping } from './job.js';
import { describeDestination, destinationFor } from './open-destination.js';
import type { Progress } from './progress.js';
import { RowShaper } from './row-shape.js';
import { schemaColumns } from './schema-columns.js';

export interface RunOptions {
  readonly config: ExportConfig;
  /** Stop each job once it is caught up (`--once`); follow otherwise. */
  readonly once: boolean;
  /** The service's read token (READ_TOKEN), if it has one. */
  readonly token: string | undefined;
  /** SIGTERM/SIGINT: every job loads its batch in hand, then the run ends. */
  readonly stop: AbortSignal;
  readonly log: Logger;
  readonly progress: Progress;
}

/** A job failed: its name, and why (a DestinationError, a SourceError, or a bug). */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    readonly job: string,
    override readonly cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(namingJob(job, why), { cause });
  }
}

/** The service's client for the export (its feed; ping to tell an unreachable service at once). */
export function exportClient(config: ExportConfig, token: string | undefined): KpiggybankClient {
  return new KpiggybankClient({ baseUrl: config.source.url, token });
}

/** The deepest cause's message: fetch's own is "fetch failed", its cause's says "connect ECONNREFUSED 127.0.0.1:3000". */
function innermost(error: Error): string {
  let deepest = error;
  while (deepest.cause instanceof Error) deepest = deepest.cause;
  return deepest.message;
}

/** Fails at once, in one line, when the service cannot be reached (the feed would retry for ever). */
export async function checkService(client: KpiggybankClient, url: string): Promise<void> {
  try {
    await client.ping();
  } catch (error) {
    if (error instanceof KpiggybankNetworkError) throw new SourceError(`cannot reach the service at ${url}: ${innermost(error)}`);
    if (error instanceof KpiggybankHttpError) throw new SourceError(`the service at ${url} answered ${error.status} to a ping: is it a kpiggybank service?`);
    throw error;
  }
}

/** The job's filter and row shaper over the columns its destination has; with an event type, only its blobs, into its columns (`declared`). */
export function shapingFor(job: ExportJobConfig, type?: { readonly type: JobEventType; readonly declared: readonly Column[] }): (existing: readonly Column[]) => Shaping {
  const filter = compileFilter(job.filter);
  const ofType = type?.type.of;
  const keep = ofType === undefined ? filter : (blob: Parameters<typeof filter>[0]) => ofType(blob) && filter(blob);
  return (existing) => {
    const shaper = new RowShaper(job, existing, type?.declared);
    return {
      keep,
      shape: (blob) => shaper.shape(blob),
      loadable: (row) => shaper.loadable(row),
      seal: (rows) => shaper.seal(rows),
      get columns() {
        return shaper.columns;
      },
    };
  };
}

/** Runs every job; resolves when all have stopped (caught up with `once`, or stopped), rejects with the first failure. */
export async function runExport(options: RunOptions): Promise<JobSummary[]> {
  const { config, log, progress } = options;
  const client = exportClient(config, options.token);
  await checkService(client, config.source.url);
  const eventTypes = await jobEventTypes(config, client);
  // a failing job stops the others, which load their batch in hand first
  const failed = new AbortController();
  const stop = AbortSignal.any([options.stop, failed.signal]);
  let firstFailure: unknown;
  const results = await Promise.allSettled(
    config.exports.map(async (job) => {
      const where = describeDestination(job);
      try {
        const eventType = eventTypes.get(job.name);
        const declared = eventType === undefined ? undefined : schemaColumns(eventType.type, job.destination.kind);
        const destination = await destinationFor(job);
        try {
          return await runJob({
            job,
            destination,
            tableColumns: declared,
            shaping: shapingFor(job, eventType === undefined || declared === undefined ? undefined : { type: eventType, declared }),
            openFeed: (since, signal) =>
              new FeedReader(client, since, { signal, onReconnect: (why) => log.warn({ job: job.name, reason: why.message }, 'the change feed was cut; reconnecting') }),
            once: options.once,
            stop,
            onOpen: (state) => progress.opened(job.name, state, where),
            onBatch: (report) => {
              progress.batch(report);
              if (report.skipped > 0) {
                log.warn(
                  { job: job.name, skipped: report.skipped, first_id: report.firstSkipped, seq: report.seq },
                  `blobs not loaded: no value of its type for a required field of event type "${job.event_type ?? ''}" (posted before the schema?)`,
                );
              }
            },
            onCaughtUp: () => progress.caughtUp(job.name),
          });
        } finally {
          await destination.close();
        }
      } catch (error) {
        firstFailure ??= new JobFailure(job.name, error);
        failed.abort();
        throw error;
      }
    }),
  );
  if (firstFailure !== undefined) throw firstFailure;
  return results.map((result) => (result as PromiseFulfilledResult<JobSummary>).value);
}
