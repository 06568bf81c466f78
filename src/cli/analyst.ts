// kpiggybank drain|count|range: the analyst's side of the piggybank. Nothing here imports the load
// test: a production install has no devDependencies, and the load test's PouchDB Server is one.
import { type Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import type { RangeOptions } from 'kpiggybank-client';
import type { TokenVariable } from './auth-advice.js';
import { CliError, errorMessage } from './cli-error.js';
import { drain, resume } from './drain-command.js';
import { mistake, noArguments, type Exit } from './usage.js';
import { AnswerError, Service, UnreachableError } from './service.js';

const DEFAULT_URL = 'http://127.0.0.1:3000';

const CommonSchema = z.object({ url: z.string(), token: z.string().optional(), start: z.string().optional(), end: z.string().optional() });
const DrainOptionsSchema = CommonSchema.extend({
  out: z.string().optional(),
  format: z.string(),
  csvRaw: z.boolean().default(false),
  force: z.boolean().default(false),
  resume: z.string().optional(),
});

const urlOption = () => new Option('--url <URL>', 'the kpiggybank service').env('KPIGGYBANK_URL').default(DEFAULT_URL);
const tokenOption = (variable: TokenVariable, what: string) => new Option('--token <T>', what).env(variable);
const rangeOptions = (command: Command) =>
  command.option('--start <S>', 'only blobs from this timestamp on (an integer, as the blobs have it)').option('--end <E>', 'only blobs up to this timestamp');

/** The service and the range the options name, checked. */
function connect(command: Command, variable: TokenVariable): { service: Service; range: Pick<RangeOptions, 'start' | 'end'> } {
  const options = CommonSchema.parse(command.opts());
  for (const bound of ['start', 'end'] as const) {
    const value = options[bound];
    if (value !== undefined && !/^-?\d+$/.test(value)) mistake(command, `--${bound} must be an integer (a timestamp), not ${JSON.stringify(value)}`);
  }
  const urlFrom = command.getOptionValueSource('url') === 'env' ? 'KPIGGYBANK_URL' : '--url';
  if (!/^https?:\/\/[^/]/.test(options.url)) mistake(command, `${urlFrom} must be an http:// or https:// URL, not ${JSON.stringify(options.url)}`);
  const source = command.getOptionValueSource('token');
  const service = new Service(options.url, { token: options.token, from: options.token === undefined ? undefined : source === 'env' ? 'env' : 'flag', variable });
  const bound = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  return { service, range: { start: bound(options.start), end: bound(options.end) } };
}

/** Every failure is one line with what to do next: a stack trace helps nobody who runs this. */
function report(error: unknown): number {
  const known = error instanceof CliError || error instanceof AnswerError || error instanceof UnreachableError;
  process.stderr.write(`kpiggybank: ${known ? error.message : `unexpected error: ${errorMessage(error)}`}\n`);
  return error instanceof CliError ? error.exitCode : 1;
}

/** The action of a command: its exit code told to `exit`; its failures reported in one line. */
const action = (exit: Exit, body: (command: Command) => Promise<number>) => async (_options: unknown, command: Command) => {
  noArguments(command);
  let code: number;
  try {
    code = await body(command);
  } catch (error) {
    if (error instanceof CommanderError) throw error; // a mistake, already said
    code = report(error);
  }
  exit(code);
};

/** Runs `body` with the service the options name. */
function withService(command: Command, variable: TokenVariable, body: (service: Service, range: Pick<RangeOptions, 'start' | 'end'>) => Promise<number>): Promise<number> {
  const { service, range } = connect(command, variable);
  return body(service, range);
}

function drainAction(command: Command): Promise<number> {
  return withService(command, 'DRAIN_TOKEN', (service, range) => {
    const options = DrainOptionsSchema.parse(command.opts());
    if (options.resume !== undefined) {
      if (options.out !== undefined) mistake(command, '--resume finishes the commit of a drain whose file is written already: it takes no --out');
      return resume(service, options.resume);
    }
    if (options.out === undefined || options.out === '') return mistake(command, 'drain needs --out FILE (or --resume ID)');
    if (options.format !== 'ndjson' && options.format !== 'csv') return mistake(command, `--format must be ndjson or csv, not ${JSON.stringify(options.format)}`);
    if (options.csvRaw && options.format !== 'csv') mistake(command, '--csv-raw goes with --format csv');
    return drain(service, { out: options.out, format: options.format, csvRaw: options.csvRaw, force: options.force, range });
  });
}

function countAction(command: Command): Promise<number> {
  return withService(command, 'READ_TOKEN', async (service) => {
    process.stdout.write(`${await service.ask((client) => client.count())}\n`);
    return 0;
  });
}

function rangeAction(command: Command): Promise<number> {
  return withService(command, 'READ_TOKEN', async (service, range) => {
    // the blobs themselves, not the original's view rows, passed on as they come
    const body = await service.ask((client) => client.rangeStream(range));
    try {
      for await (const chunk of body) process.stdout.write(chunk);
    } catch (error) {
      throw new CliError(`the connection to ${service.shown} was cut during the range (${errorMessage(error)})`);
    }
    process.stdout.write('\n');
    return 0;
  });
}

const READ_TOKEN_HELP = "the service's read token, if it has one";

export function addAnalystCommands(program: Command, exit: Exit): void {
  const drainCommand = program
    .command('drain')
    .summary('take the blobs out: write them to a file, fsynced, then delete them from the store')
    .usage('--out FILE [--url URL] [--token T] [--force] [--format ndjson|csv] [--csv-raw] [--start S] [--end E]\n       kpiggybank drain --resume ID [--url URL] [--token T]')
    .description(
      'Claims the blobs (of the range), writes them to a temporary file beside FILE, fsyncs it, checks the count, renames it to FILE, and only then commits: deletes them from the store. Until the commit starts, any failure or Ctrl-C releases the claim and deletes nothing. A commit cut short is finished with --resume ID, as the message says.',
    )
    .addOption(urlOption())
    .addOption(tokenOption('DRAIN_TOKEN', "the service's drain token"))
    .option('--out <FILE>', 'the file to write; never replaced unless --force')
    .option('--force', 'replace FILE if it exists')
    .option('--format <F>', 'ndjson or csv', 'ndjson')
    .option('--csv-raw', 'CSV: write formula-like cells as they are (they get a leading quote otherwise)');
  rangeOptions(drainCommand)
    .option('--resume <ID>', 'finish the commit of drain ID, cut short: its file is written already')
    .addHelpText('after', '\nExit status: 0 done; 1 failed (one line: what was and was not deleted, and what to do); 2 a bad option;\n130 / 143 interrupted by SIGINT / SIGTERM.')
    .action(action(exit, drainAction));

  program
    .command('count')
    .summary('print how many blobs the store holds')
    .usage('[--url URL] [--token T]')
    .addOption(urlOption())
    .addOption(tokenOption('READ_TOKEN', READ_TOKEN_HELP))
    .addHelpText('after', '\nExit status: 0 done; 1 failed; 2 a bad option.')
    .action(action(exit, countAction));

  const rangeCommand = program
    .command('range')
    .summary('print the blobs of a time range, as a JSON array')
    .usage('[--url URL] [--token T] [--start S] [--end E]')
    .addOption(urlOption())
    .addOption(tokenOption('READ_TOKEN', READ_TOKEN_HELP));
  rangeOptions(rangeCommand).addHelpText('after', '\nExit status: 0 done; 1 failed; 2 a bad option.').action(action(exit, rangeAction));
}
