// kpiggybank drain|count|range: the analyst's side of the piggybank.
import { parseArgs } from 'node:util';
import { CountResponseSchema } from 'kpiggybank-client/wire';
import { CliError, errorMessage } from './cli-error.js';
import { drain, resume } from './drain-command.js';
import { LOADTEST_USAGE } from './loadtest.js';
import { AnswerError, Service, UnreachableError } from './service.js';

const USAGE = `usage:
  kpiggybank drain --url URL --token T --out FILE [--force] [--format ndjson|csv] [--csv-raw] [--start S] [--end E]
  kpiggybank drain --resume ID --url URL --token T
  kpiggybank count --url URL [--token T]
  kpiggybank range --url URL [--token T] [--start S] [--end E]
  ${LOADTEST_USAGE.replace(/^usage: /, '')}`;

/** A user's mistake: one line and the usage, exit 2. */
const usage = (message: string) => new CliError(`${message}\n${USAGE}`, 2);

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        token: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string', default: 'ndjson' },
        start: { type: 'string' },
        end: { type: 'string' },
        force: { type: 'boolean', default: false },
        'csv-raw': { type: 'boolean', default: false },
        resume: { type: 'string' },
      },
    });
  } catch (error) {
    throw usage(errorMessage(error));
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parse();
  for (const bound of ['start', 'end'] as const) {
    if (values[bound] !== undefined && !/^-?\d+$/.test(values[bound])) throw usage(`--${bound} must be an integer (a timestamp), not ${JSON.stringify(values[bound])}`);
  }
  if (!/^https?:\/\/[^/]/.test(values.url)) throw usage(`--url must be an http:// or https:// URL, not ${JSON.stringify(values.url)}`);
  const service = new Service(values.url, values.token);
  const range = new URLSearchParams();
  if (values.start !== undefined) range.set('start', values.start);
  if (values.end !== undefined) range.set('end', values.end);

  switch (positionals[0]) {
    case 'drain': {
      if (values.resume !== undefined) {
        if (values.out !== undefined) throw usage('--resume finishes the commit of a drain whose file is written already: it takes no --out');
        return resume(service, values.resume);
      }
      if (!values.out) throw usage('drain needs --out FILE');
      if (values.format !== 'ndjson' && values.format !== 'csv') throw usage(`--format must be ndjson or csv, not ${JSON.stringify(values.format)}`);
      if (values['csv-raw'] && values.format !== 'csv') throw usage('--csv-raw goes with --format csv');
      return drain(service, { out: values.out, format: values.format, csvRaw: values['csv-raw'], force: values.force, range });
    }
    case 'count':
      process.stdout.write(`${CountResponseSchema.parse(await service.json('GET', '/wsapi/interaction_data/count'))}\n`);
      return 0;
    case 'range': {
      const query = new URLSearchParams(range);
      query.set('shape', 'blobs'); // the blobs themselves, not the original's view rows
      const res = await service.call('GET', `/wsapi/interaction_data?${query}`);
      try {
        for await (const chunk of res as AsyncIterable<Uint8Array>) process.stdout.write(chunk);
      } catch (error) {
        throw new CliError(`the connection to ${service.base} was cut during the range (${errorMessage(error)})`);
      }
      process.stdout.write('\n');
      return 0;
    }
    default:
      throw usage(positionals[0] === undefined ? 'which command?' : `unknown command ${JSON.stringify(positionals[0])}`);
  }
}

/** Every failure is one line with what to do next: a stack trace helps nobody who runs this. */
process.exitCode = await main().catch((error: unknown) => {
  const known = error instanceof CliError || error instanceof AnswerError || error instanceof UnreachableError;
  process.stderr.write(`kpiggybank: ${known ? error.message : `unexpected error: ${errorMessage(error)}`}\n`);
  return error instanceof CliError ? error.exitCode : 1;
});
