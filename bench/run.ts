// npm run bench -- --help: the options. Scenario benchmarks of the service (node dist/server.js,
// MODE=prod) against a bare node:http server measured in the same run; couchdb is COUCHDB_URL,
// else a PouchDB Server in memory. The results go to stdout, and to files only where --json and
// --markdown say: a run never overwrites the tracked bench/RESULTS.md unless told to.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { Backends } from './lib/backends.js';
import { exitCodeFor, parseBenchOptions, USAGE, UsageError, type BenchOptions, type Scenario } from './lib/options.js';
import { markdown, writeResults, type Results, type Row, type Run } from './lib/report.js';
import { batched, drain, feed, groupCommit, rangeRead, schemaCost, singleBlob, type Context } from './lib/scenarios.js';

function readOptions(): BenchOptions {
  try {
    return parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: ${error.message} (npm run bench -- --help lists the options)`);
    process.exit(2);
  }
}

const options = readOptions();
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const { only, backends: selected, blobs } = options;
const backends = new Backends(options.service);
const ctx: Context = { backends, selected, seconds: options.seconds, connections: options.connections, rows: [] };
const loadAtStart = loadavg().map((n) => Number(n.toFixed(2)));
/** What else was busy when the run started (the machine may be shared): the top of ps. */
const busyAtStart = execFileSync('ps', ['-eo', 'pcpu=,args=', '--sort=-pcpu'], { encoding: 'utf8' })
  .split('\n')
  .map((line) => line.trim().slice(0, 110))
  .filter((line) => line !== '' && !line.includes('ps -eo') && Number.parseFloat(line) >= 5)
  .slice(0, 6);
const started = Date.now();
const previous: Results | undefined =
  options.append && options.json !== undefined ? ((JSON.parse(await readFile(options.json, 'utf8').catch(() => 'null')) as Results | null) ?? undefined) : undefined;
const earlier: Row[] = previous?.rows ?? [];
const earlierRuns: Run[] = previous
  ? (previous.runs ?? [{ date: previous.date, loadAverage: previous.loadAverage, busyAtStart: previous.busyAtStart ?? [], options: previous.options }])
  : [];

const run: Record<Scenario, () => Promise<void>> = {
  single: () => singleBlob(ctx),
  batch: () => batched(ctx),
  schema: () => schemaCost(ctx),
  'group-commit': () => groupCommit(ctx),
  feed: () => feed(ctx),
  drain: () => drain(ctx, blobs),
  range: () => rangeRead(ctx, blobs),
};

function results(): Results {
  const thisRun: Run = {
    date: new Date().toISOString(),
    loadAverage: { start: loadAtStart, end: loadavg().map((n) => Number(n.toFixed(2))) },
    busyAtStart,
    options: {
      only,
      backends: selected,
      service: options.service,
      seconds: ctx.seconds,
      connections: ctx.connections,
      blobs,
      minutes: Number(((Date.now() - started) / 60_000).toFixed(1)),
    },
  };
  return {
    ...thisRun,
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    ...(earlierRuns.length > 0 && { runs: [...earlierRuns, thisRun] }),
    rows: [...earlier, ...ctx.rows],
  };
}

try {
  for (const scenario of only) {
    await run[scenario]();
    // After every scenario, so that a run cut short still leaves what it measured (where asked).
    await writeResults(results(), options);
  }
} finally {
  await backends.close();
}
console.log(`\n${markdown(results())}`);
const written = [options.json, options.markdown].filter((file) => file !== undefined);
console.log(written.length > 0 ? `results written to ${written.join(', ')}` : 'results written to no file (--json FILE, --markdown FILE)');
for (const r of ctx.rows.filter((row) => row.met === false)) console.log(`target missed: ${r.scenario} on ${r.backend}: ${r.value} ${r.metric} (${r.target})`);
process.exitCode = exitCodeFor(ctx.rows);
