import { parseArgs } from 'node:util';
import { BACKENDS, type Backend } from './backends.js';

const SCENARIOS = ['single', 'batch', 'schema', 'group-commit', 'feed', 'drain', 'range'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  help: boolean;
  only: Scenario[];
  backends: Backend[];
  seconds: number;
  connections: number;
  blobs: number;
  /** Where to write the results; unset, nothing is written (the table goes to stdout). */
  json: string | undefined;
  markdown: string | undefined;
  service: string;
  append: boolean;
}

/** A mistake in the command line: one line on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: npm run bench -- [options]

Runs the scenario benchmarks against node dist/server.js (MODE=prod, a fresh store each time) and a
bare node:http server measured in the same run, then prints the results as a Markdown table.
Nothing is written unless --json or --markdown says where.

Options:
  --only LIST          scenarios, comma-separated (default: all): ${SCENARIOS.join(', ')}
  --backend LIST       backends, comma-separated (default: all): ${BACKENDS.join(', ')}
                       (couchdb is COUCHDB_URL, else a PouchDB Server in memory)
  --seconds N          seconds per measurement, after a warm-up (default 5)
  --connections N      connections of the load generator (default 50)
  --blobs N            blobs to fill for drain and range (default 100000)
  --json FILE          write the results as JSON to FILE
  --markdown FILE      write the results as a Markdown table to FILE
  --append             keep the rows already in the --json FILE (scenarios run separately)
  --service FILE       the server script to measure (default dist/server.js; another build's, to compare)
  -h, --help           this help

To update the tracked results: --json bench/results.json --markdown bench/RESULTS.md
Exit status: 0 every target met; 1 a target missed (each is named); 2 a bad option.`;

function list<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  const wrong = items.filter((item) => !allowed.includes(item as T));
  if (wrong.length > 0) throw new UsageError(`unknown ${what}: ${wrong.join(', ')} (one of ${allowed.join(', ')})`);
  if (items.length === 0) throw new UsageError(`no ${what} given (one of ${allowed.join(', ')})`);
  return items as T[];
}

function positive(text: string, name: string, integer: boolean): number {
  const value = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value));
  if (!ok) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(text)})`);
  return value;
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      only: { type: 'string', default: SCENARIOS.join(',') },
      backend: { type: 'string', default: BACKENDS.join(',') },
      seconds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      blobs: { type: 'string', default: '100000' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      service: { type: 'string', default: 'dist/server.js' },
      append: { type: 'boolean', default: false },
    },
  }).values;
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  let values: ReturnType<typeof parseFlags>;
  try {
    values = parseFlags(argv);
  } catch (error) {
    // parseArgs says what is wrong in its first sentence; the rest is advice about `--`.
    const first = (error as Error).message.split('. ')[0]!.replace(/\.$/, '');
    throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1));
  }
  if (values.append && values.json === undefined) throw new UsageError('--append needs --json FILE (the results it adds to)');
  return {
    help: values.help,
    only: list(values.only, SCENARIOS, 'scenario'),
    backends: list(values.backend, BACKENDS, 'backend'),
    seconds: positive(values.seconds, 'seconds', false),
    connections: positive(values.connections, 'connections', true),
    blobs: positive(values.blobs, 'blobs', true),
    json: values.json,
    markdown: values.markdown,
    service: values.service,
    append: values.append,
  };
}

/** 1 when any row missed its target: a run that misses one must fail a script that runs it. */
export function exitCodeFor(rows: readonly { met?: boolean | undefined }[]): 0 | 1 {
  return rows.some((row) => row.met === false) ? 1 : 0;
}
