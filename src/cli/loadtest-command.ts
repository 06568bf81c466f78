// kpiggybank loadtest: its options and help. The load test (src/loadtest) is imported only when it
// runs: the analyst's commands and --help must load without it.
import { type Command, CommanderError } from 'commander';
import { z } from 'zod';
import { STORE_BACKENDS, type StoreBackend } from '../store/backends.js';
import { errorMessage } from './cli-error.js';
// a type only: erased from the JavaScript, so the load test stays unloaded
import type { LoadtestOptions } from './loadtest.js';
import { mistake as refuse, noArguments, type Exit } from './usage.js';

const OptionsSchema = z.object({
  url: z.string().optional(),
  backend: z.string(),
  sequences: z.string(),
  clients: z.string(),
  batch: z.string(),
  warmup: z.string(),
  target: z.string(),
  json: z.string().optional(),
  token: z.string().optional(),
});

/** "memory, leveldb or couchdb": the backends the load test can start, as help and mistakes name them. */
const BACKEND_CHOICES = `${STORE_BACKENDS.slice(0, -1).join(', ')} or ${STORE_BACKENDS.at(-1)}`;
const isStoreBackend = (name: string): name is StoreBackend => (STORE_BACKENDS as readonly string[]).includes(name);

// paragraphs: commander wraps them to the terminal
const DESCRIPTION = [
  "Without --url it starts the service itself, on a fresh store of the backend (default leveldb; couchdb makes a fresh database on the CouchDB that COUCHDB_URL names — in a checkout, `npm run loadtest` starts a PouchDB Server for it when COUCHDB_URL is unset). Exits 1 when the store+retrieve rate is below --target blobs/s (default 200: twice the seed's 100 sign-ins/s), or a blob is lost, altered or refused. --warmup sign-ins are stored and read back first, in rounds of --sequences, and not counted.",
  "With --url it writes --warmup + --sequences blobs (6,000 by default) into that service's store, and they stay there: it deletes nothing. It says so before it starts.",
].join('\n\n');

export function addLoadtestCommand(program: Command, exit: Exit): void {
  const command = program
    .command('loadtest')
    .summary('store and retrieve sign-ins; exit 1 below --target blobs/s')
    .usage(
      `[--url URL | --backend ${STORE_BACKENDS.join('|')}] [--sequences 1000]
                           [--clients 50] [--batch 1] [--warmup 5000] [--target 200]
                           [--json FILE] [--token T] [--help]`,
    )
    .description(DESCRIPTION)
    .option('--url <URL>', 'a running service to load (its store keeps the blobs)')
    .option('--backend <B>', `without --url: ${BACKEND_CHOICES}`, 'leveldb')
    .option('--sequences <N>', 'sign-in blobs to store and read back', '1000')
    .option('--clients <N>', 'virtual clients posting at once', '50')
    .option('--batch <N>', 'blobs per POST', '1')
    .option('--warmup <N>', 'sign-ins stored and read back first, not counted', '5000')
    .option('--target <N>', 'blobs/s of store + retrieve below which it exits 1', '200')
    .option('--json <FILE>', 'write the figures there too')
    .option('--token <T>', "the service's token, sent with every request (with --url)")
    .addHelpText('after', '\nExit status: 0 passed; 1 below --target, a blob lost, altered or refused, or the run failed; 2 a bad option.');
  command.action(async () => {
    const options = parse(command);
    let code: number;
    try {
      const { loadtest } = await import('./loadtest.js');
      code = await loadtest(options);
    } catch (error) {
      if (error instanceof CommanderError) throw error;
      process.stderr.write(`kpiggybank loadtest: ${errorMessage(error)}\n`);
      code = 1;
    }
    exit(code);
  });
}

/** The options, checked: a bad one is one line and the usage, exit 2. */
function parse(command: Command): LoadtestOptions {
  noArguments(command);
  const values = OptionsSchema.parse(command.opts());
  const mistake = (message: string): never => refuse(command, message);
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    return Number.isInteger(value) && value >= 1 ? value : mistake(`--${name} must be a positive integer, not ${JSON.stringify(text)}`);
  };
  const { backend } = values;
  if (!isStoreBackend(backend)) return mistake(`--backend must be ${BACKEND_CHOICES}, not ${JSON.stringify(backend)}`);
  if (values.url !== undefined && !/^https?:\/\/[^/]/.test(values.url)) mistake(`--url must be an http:// or https:// URL, not ${JSON.stringify(values.url)}`);
  return {
    url: values.url,
    backend,
    sequences: positive('sequences', values.sequences),
    clients: positive('clients', values.clients),
    batch: positive('batch', values.batch),
    warmup: values.warmup === '0' ? 0 : positive('warmup', values.warmup),
    target: positive('target', values.target),
    json: values.json,
    token: values.token,
  };
}
