// Drain benchmark: fill N small blobs, drain them all through the CLI to a file, report time,
// blobs/s and the server's peak RSS.   npm run bench:drain -- [--blobs 1000000] [--backend pouchdb|memory|couchdb]
// couchdb uses COUCHDB_URL, else a PouchDB Server (in memory) started for the run.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startPouchDbServer } from '../test/support/pouchdb-server.js';

const { values } = parseArgs({ options: { blobs: { type: 'string', default: '1000000' }, backend: { type: 'string', default: 'pouchdb' } } });
const total = Number(values.blobs);
const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-bench-drain-'));
const couch = values.backend === 'couchdb' && !process.env.COUCHDB_URL ? await startPouchDbServer() : undefined;
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const token = 'bench';
// SERVER_NODE_OPTIONS, e.g. --max-old-space-size=128, shows whether the drain fits a smaller heap
const server = spawn(process.execPath, [...(process.env.SERVER_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []), 'dist/server.js'], {
  env: {
    PATH: process.env.PATH,
    PORT: String(port),
    DB_BACKEND: values.backend,
    DATA_DIR: path.join(dir, 'data'),
    DRAIN_TOKEN: token,
    LOG_LEVEL: 'warn',
    ...(values.backend === 'couchdb' && { COUCHDB_URL: process.env.COUCHDB_URL ?? couch!.url, DB_NAME: `bench_drain_${process.pid}` }),
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
for (;;) {
  if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}

/** The server's resident memory, from /proc (Linux). */
async function rss(): Promise<number> {
  const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}
let peak = 0;
const sampler = setInterval(() => void rss().then((bytes) => (peak = Math.max(peak, bytes))), 200);

const fillStarted = performance.now();
for (let i = 0; i < total; i += 1000) {
  const blobs = Array.from({ length: Math.min(1000, total - i) }, (_, j) => ({ timestamp: 1_338_000_000 + i + j, lang: 'en', ok: true }));
  const res = await fetch(`${url}/wsapi/interaction_data`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(blobs) });
  if (res.status !== 201) throw new Error(`fill: POST answered ${res.status}`);
  await res.arrayBuffer();
}
const fillSeconds = (performance.now() - fillStarted) / 1000;
const peakWhileFilling = peak;
peak = 0;

const out = path.join(dir, 'drained.ndjson');
const drainStarted = performance.now();
const cli = spawn(process.execPath, ['dist/cli/kpiggybank.js', 'drain', '--url', url, '--token', token, '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
const drainSeconds = (performance.now() - drainStarted) / 1000;
clearInterval(sampler);
const left = (await (await fetch(`${url}/wsapi/interaction_data/count`)).json()) as number;
console.log(
  JSON.stringify(
    {
      backend: values.backend,
      blobs: total,
      fillSeconds: Number(fillSeconds.toFixed(1)),
      drainSeconds: Number(drainSeconds.toFixed(1)),
      drainedPerSecond: Math.round(total / drainSeconds),
      fileBytes: (await stat(out)).size,
      cliExit: code,
      leftInStore: left,
      serverPeakRssMiB: { filling: Math.round(peakWhileFilling / 2 ** 20), draining: Math.round(peak / 2 ** 20) },
    },
    null,
    2,
  ),
);
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
await couch?.stop();
await rm(dir, { recursive: true, force: true });
