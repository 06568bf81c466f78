// History replay through the change feed: N blobs posted, then the typed client's
// `changes({ since: '0' })` read to the N-th change, timed, on memory and leveldb in one run.
// What an exporter's backfill (issue 24) rides on.   npx tsx bench/feed-replay.ts --help
// Results to stdout, and to files only where --json / --markdown say (.scratch/ is git-ignored).
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { KpiggybankClient } from 'kpiggybank-client';
import { Routes } from 'kpiggybank-client/wire';
import { exitOnTermination } from '../src/loadtest/kill-on-exit.js';
import { Backends, type Backend } from './lib/backends.js';
import { kpiBlob } from './lib/blobs.js';
import { scriptArgs } from './lib/script-args.js';

const USAGE = `npx tsx bench/feed-replay.ts [options]
  Posts N blobs (~600 bytes each, 1,000 per POST) to a fresh service, then replays them through
  the client's change feed from since=0, --runs times; prints changes/s, the server's and this
  process's CPU seconds per run, and the best and median run. Writes no file unless told.
  --backends LIST   comma-separated: memory,leveldb (default both)
  --blobs N         blobs posted and replayed (default 200000)
  --runs N          replays per backend (default 3)
  --service FILE    the server script (default dist/server.js; an older build to compare)
  --json FILE       write the results as JSON
  --markdown FILE   write them as a Markdown table
  --help            this text`;

const { values, fail } = scriptArgs('feed-replay', USAGE, {
  backends: { type: 'string', default: 'memory,leveldb' },
  blobs: { type: 'string', default: '200000' },
  runs: { type: 'string', default: '3' },
  service: { type: 'string', default: 'dist/server.js' },
  json: { type: 'string' },
  markdown: { type: 'string' },
  help: { type: 'boolean', default: false },
});
const selected = values.backends.split(',') as Backend[];
for (const backend of selected) if (backend !== 'memory' && backend !== 'leveldb') fail(`--backends takes memory and leveldb, not ${backend}`);
const blobs = Number(values.blobs);
const runs = Number(values.runs);
if (!(Number.isInteger(blobs) && blobs > 0)) fail(`--blobs must be a positive integer, not ${values.blobs}`);
if (!(Number.isInteger(runs) && runs > 0)) fail(`--runs must be a positive integer, not ${values.runs}`);

interface Replay {
  ms: number;
  changesPerSecond: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
}

interface Row {
  backend: string;
  blobs: number;
  runs: Replay[];
  best: number;
  median: number;
}

const POST_SIZE = 1000;

async function post(url: string): Promise<void> {
  for (let i = 0; i < blobs; i += POST_SIZE) {
    const body = JSON.stringify(Array.from({ length: Math.min(POST_SIZE, blobs - i) }, (_, k) => kpiBlob(i + k)));
    const res = await fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  }
}

/** Reads the feed from the start to the N-th change; a change out of order or twice fails the run. */
async function replay(client: KpiggybankClient, cpuSeconds: () => Promise<number>): Promise<Replay> {
  const serverBefore = await cpuSeconds();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  let got = 0;
  let previous = 0;
  for await (const change of client.changes({ since: '0' })) {
    const seq = Number(change.seq);
    if (!(seq > previous)) throw new Error(`change ${change.seq} after ${previous}: out of order or twice`);
    previous = seq;
    if (++got === blobs) break;
  }
  const ms = performance.now() - started;
  const clientCpu = process.cpuUsage(clientBefore);
  return {
    ms: Math.round(ms),
    changesPerSecond: Math.round(got / (ms / 1000)),
    serverCpuSeconds: Number(((await cpuSeconds()) - serverBefore).toFixed(2)),
    clientCpuSeconds: Number(((clientCpu.user + clientCpu.system) / 1e6).toFixed(2)),
  };
}

exitOnTermination();
const backends = new Backends(values.service);
const rows: Row[] = [];
const loadAtStart = loadavg().map((n) => Number(n.toFixed(2)));
try {
  for (const backend of selected) {
    const service = await backends.start(backend);
    try {
      const posting = performance.now();
      await post(service.url);
      console.error(`${backend}: ${blobs} blobs posted in ${Math.round(performance.now() - posting)} ms`);
      const client = new KpiggybankClient({ baseUrl: service.url });
      const replays: Replay[] = [];
      for (let run = 0; run < runs; run++) {
        const result = await replay(client, service.cpuSeconds);
        console.error(
          `${backend} replay ${run + 1}: ${result.changesPerSecond} changes/s (${result.ms} ms; CPU s: server ${result.serverCpuSeconds}, client ${result.clientCpuSeconds}; load ${loadavg()[0]!.toFixed(2)})`,
        );
        replays.push(result);
      }
      const rates = replays.map((r) => r.changesPerSecond).sort((a, b) => a - b);
      rows.push({ backend, blobs, runs: replays, best: rates[rates.length - 1]!, median: rates[Math.floor(rates.length / 2)]! });
    } finally {
      await service.stop();
    }
  }
} finally {
  await backends.close();
}

const results = {
  date: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
  service: values.service,
  loadAverage: { start: loadAtStart, end: loadavg().map((n) => Number(n.toFixed(2))) },
  rows,
};
const table = [
  `Feed replay from since=0, ${blobs} blobs, ${runs} runs each (${results.date}, load ${loadAtStart.join(' ')} → ${results.loadAverage.end.join(' ')}, ${values.service})`,
  '',
  '| backend | best changes/s | median changes/s | server CPU s (median run) | client CPU s (median run) |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((row) => {
    const median = [...row.runs].sort((a, b) => a.changesPerSecond - b.changesPerSecond)[Math.floor(row.runs.length / 2)]!;
    return `| ${row.backend} | ${row.best.toLocaleString('en-US')} | ${row.median.toLocaleString('en-US')} | ${median.serverCpuSeconds} | ${median.clientCpuSeconds} |`;
  }),
].join('\n');
console.log(JSON.stringify(results, null, 2));
console.log(`\n${table}`);
if (values.json !== undefined) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
if (values.markdown !== undefined) await writeFile(values.markdown, `${table}\n`);
