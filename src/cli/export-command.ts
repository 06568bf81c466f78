// kpiggybank export [status]: the continuous export's command line. The exporter (src/export) is
// imported only when the command runs: the other commands and --help load without it.
import { type Command, CommanderError } from 'commander';
import { z } from 'zod';
import { errorMessage } from './cli-error.js';
import { mistake, noArguments, USAGE_EXIT, type Exit } from './usage.js';

const DEFAULT_CONFIG = 'kpiggybank-export.toml';

const RunOptionsSchema = z.object({ config: z.string(), once: z.boolean().default(false), follow: z.boolean().default(false) });
const StatusOptionsSchema = RunOptionsSchema;
const LevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const EXIT_HELP =
  '\nExit status: 0 done (or stopped by SIGTERM/SIGINT after loading the batch in hand); 1 failed (the service unreachable, the token refused, an event_type the service does not declare, a destination error); 2 a bad option or a mistake in the config file.';

const DESCRIPTION = [
  "Loads the blobs of a kpiggybank service into files, DuckDB or PostgreSQL, as the config file's [[exports]] say, reading the service's change feed from the checkpoint each destination keeps with its data: after a crash or a kill -9, a restart loads each blob exactly once.",
  'With --follow (the default) it catches up, then loads new blobs as they arrive, each within its batch.max_delay; with --once it catches up to the feed as it was at the start and exits 0 (for cron). SIGTERM or SIGINT loads the batch in hand, then exits 0.',
  'The read token is READ_TOKEN, when the service has one. See docs/export.md for the config file.',
].join('\n\n');

/** Prints the failure in one line (several for a config's mistakes) and gives its exit code. */
async function report(error: unknown): Promise<number> {
  const { ConfigError } = await import('../formats/toml-file.js');
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`kpiggybank export: ${problem}\n`);
    return USAGE_EXIT;
  }
  const { JobFailure } = await import('../export/run-export.js');
  const { SourceError } = await import('../export/feed-source.js');
  const { DestinationError } = await import('../export/destination.js');
  const cause = error instanceof JobFailure ? error.cause : error;
  const known = cause instanceof SourceError || cause instanceof DestinationError;
  process.stderr.write(`kpiggybank export: ${known ? errorMessage(error) : `unexpected error: ${errorMessage(error)}`}\n`);
  return 1;
}

const token = (): string | undefined => (process.env.READ_TOKEN === '' ? undefined : process.env.READ_TOKEN);

async function exportRun(command: Command): Promise<number> {
  noArguments(command);
  const options = RunOptionsSchema.parse(command.opts());
  if (options.once && options.follow) mistake(command, "--once and --follow are each other's opposite: give one");
  const level = LevelSchema.safeParse(process.env.LOG_LEVEL ?? 'info');
  if (!level.success) mistake(command, `LOG_LEVEL must be one of ${LevelSchema.options.join(', ')}, not ${JSON.stringify(process.env.LOG_LEVEL)}`);
  const { loadConfig } = await import('../export/load-config.js');
  const { runExport } = await import('../export/run-export.js');
  const { createExportLogger, LogSink } = await import('../export/export-log.js');
  const { createProgress } = await import('../export/progress.js');
  const { boundExporterHeapGrowth } = await import('../heap-growth.js');
  boundExporterHeapGrowth();
  const config = await loadConfig(options.config);
  const terminal = process.stderr.isTTY === true;
  const sink = new LogSink(terminal);
  const log = createExportLogger(level.success ? level.data : 'info', sink);
  const progress = createProgress(log, sink, terminal);
  // the first signal lets every job load its batch in hand; a second one does not wait
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    log.info({ signal }, 'stopping: loading the batch in hand (a second signal exits at once)');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const summaries = await runExport({ config, once: options.once, token: token(), stop: stop.signal, log, progress });
    progress.stop();
    for (const summary of summaries)
      log.info({ job: summary.job, checkpoint: summary.checkpoint ?? null, loaded: summary.loaded, total_rows: summary.totalRows }, stop.signal.aborted ? 'stopped' : 'done');
    return 0;
  } finally {
    progress.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function exportStatusRun(command: Command): Promise<number> {
  noArguments(command);
  // --config is the export command's: commander gives it to `export` however it is placed
  const options = StatusOptionsSchema.parse(command.optsWithGlobals());
  if (options.once || options.follow) mistake(command, `status only reads where each job stands: it takes no --${options.once ? 'once' : 'follow'}`);
  const { loadConfig } = await import('../export/load-config.js');
  const { checkService, exportClient } = await import('../export/run-export.js');
  const { exportStatus, formatStatus, statusErrors } = await import('../export/export-status.js');
  const config = await loadConfig(options.config);
  const client = exportClient(config, token());
  await checkService(client, config.source.url);
  const statuses = await exportStatus(config, client);
  process.stdout.write(formatStatus(statuses));
  const errors = statusErrors(statuses);
  for (const line of errors) process.stderr.write(`kpiggybank export: ${line}\n`);
  return errors.length > 0 ? 1 : 0;
}

const action = (exit: Exit, body: (command: Command) => Promise<number>) => async (_options: unknown, command: Command) => {
  let code: number;
  try {
    code = await body(command);
  } catch (error) {
    if (error instanceof CommanderError) throw error; // a mistake, already said
    code = await report(error);
  }
  exit(code);
};

export function addExportCommand(program: Command, exit: Exit): void {
  const command = program
    .command('export')
    .summary('load the blobs into files, DuckDB or PostgreSQL, exactly once, and keep loading')
    .usage('[--config F] [--once | --follow]\n       kpiggybank export status [--config F]')
    .description(DESCRIPTION)
    .option('--config <F>', 'the config file (TOML)', DEFAULT_CONFIG)
    .option('--once', 'catch up to the feed, then exit 0 (for cron)')
    .option('--follow', 'catch up, then keep loading new blobs as they arrive (the default)')
    .addHelpText('after', `\nEnvironment:\n  READ_TOKEN  the service's read token, if it has one\n  LOG_LEVEL   info (default), debug, warn, error or silent\n${EXIT_HELP}`)
    .action(action(exit, exportRun));
  command
    .command('status')
    .summary('print where each job stands: checkpoint, rows loaded, changes behind and lag')
    .usage('[--config F]')
    .description(
      "Prints, for each job of the config: the checkpoint and the rows its destination holds, how many changes of the service's feed come after the checkpoint (counted up to 100,000), and the lag: the age of the oldest blob not loaded yet (0ms when caught up). It creates and changes nothing: a destination not made yet reads as not started; a DuckDB file a running exporter holds cannot be read until it stops.",
    )
    .addHelpText(
      'after',
      `\n  --config <F>  the config file (TOML), as for export (default: "${DEFAULT_CONFIG}")\n\nExit status: 0 done; 1 the service or a destination could not be read; 2 a bad option or a mistake in the config file.`,
    )
    .action(action(exit, exportStatusRun));
}
