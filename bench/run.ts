// npm run bench -- [--only single,batch,group-commit,feed,drain,range] [--backend memory,pouchdb,couchdb]
//                  [--seconds 5] [--connections 50] [--blobs 100000] [--json bench/results.json] [--markdown bench/RESULTS.md]
//                  [--service dist/server.js]   (another build's server.js, to measure before and after)
//                  [--append]   (keep the rows already in the --json file: add scenarios run separately)
// Scenario benchmarks of the service (node dist/server.js, MODE=prod) against a bare node:http
// server measured in the same run; couchdb is COUCHDB_URL, else a PouchDB Server in memory.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Backends, BACKENDS, type Backend } from './lib/backends.js';
import { readFile } from 'node:fs/promises';
import { writeResults, type Results, type Row, type Run } from './lib/report.js';
import { batched, drain, feed, groupCommit, rangeRead, singleBlob, type Context } from './lib/scenarios.js';

const SCENARIOS = ['single', 'batch', 'group-commit', 'feed', 'drain', 'range'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: SCENARIOS.join(',') },
    backend: { type: 'string', default: BACKENDS.join(',') },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    blobs: { type: 'string', default: '100000' },
    json: { type: 'string', default: 'bench/results.json' },
    markdown: { type: 'string', default: 'bench/RESULTS.md' },
    service: { type: 'string', default: 'dist/server.js' },
    append: { type: 'boolean', default: false },
  },
});

function list<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text.split(',').filter(Boolean);
  const wrong = items.filter((item) => !allowed.includes(item as T));
  if (wrong.length > 0) throw new Error(`unknown ${what}: ${wrong.join(', ')} (one of ${allowed.join(', ')})`);
  return items as T[];
}

const only = list<Scenario>(values.only, SCENARIOS, 'scenario');
const selected = list<Backend>(values.backend, BACKENDS, 'backend');
const blobs = Number(values.blobs);
const backends = new Backends(values.service);
const ctx: Context = { backends, selected, seconds: Number(values.seconds), connections: Number(values.connections), rows: [] };
const loadAtStart = loadavg().map((n) => Number(n.toFixed(2)));
/** What else was busy when the run started (the machine may be shared): the top of ps. */
const busyAtStart = execFileSync('ps', ['-eo', 'pcpu=,args=', '--sort=-pcpu'], { encoding: 'utf8' })
  .split('\n')
  .map((line) => line.trim().slice(0, 110))
  .filter((line) => line !== '' && !line.includes('ps -eo') && Number.parseFloat(line) >= 5)
  .slice(0, 6);
const started = Date.now();
const previous: Results | undefined = values.append ? (JSON.parse(await readFile(values.json, 'utf8').catch(() => 'null')) as Results | null) ?? undefined : undefined;
const earlier: Row[] = previous?.rows ?? [];
const earlierRuns: Run[] = previous ? (previous.runs ?? [{ date: previous.date, loadAverage: previous.loadAverage, busyAtStart: previous.busyAtStart ?? [], options: previous.options }]) : [];

const run: Record<Scenario, () => Promise<void>> = {
  single: () => singleBlob(ctx),
  batch: () => batched(ctx),
  'group-commit': () => groupCommit(ctx),
  feed: () => feed(ctx),
  drain: () => drain(ctx, blobs),
  range: () => rangeRead(ctx, blobs),
};
/** Written after every scenario, so that a run cut short still leaves what it measured. */
async function save(): Promise<void> {
  const run: Run = {
    date: new Date().toISOString(),
    loadAverage: { start: loadAtStart, end: loadavg().map((n) => Number(n.toFixed(2))) },
    busyAtStart,
    options: { only, backends: selected, service: values.service, seconds: ctx.seconds, connections: ctx.connections, blobs, minutes: Number(((Date.now() - started) / 60_000).toFixed(1)) },
  };
  const results: Results = {
    ...run,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}`, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    ...(earlierRuns.length > 0 && { runs: [...earlierRuns, run] }),
    rows: [...earlier, ...ctx.rows],
  };
  await writeResults(results, values.json, values.markdown);
}

try {
  for (const scenario of only) {
    await run[scenario]();
    await save();
  }
} finally {
  await backends.close();
}
console.log(`results: ${values.json}, ${values.markdown}`);
const missed = ctx.rows.filter((r) => r.met === false);
for (const r of missed) console.log(`target missed: ${r.scenario} on ${r.backend}: ${r.value} ${r.metric} (${r.target})`);
