// Drain benchmark: fill N small blobs, drain them all through the CLI to a file, report time,
// blobs/s and the server's peak RSS.   npm run bench:drain -- --help
// couchdb uses COUCHDB_URL, else a PouchDB Server (in memory) started for the run.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Routes } from 'kpiggybank-client/wire';
import { exitOnTermination, killOnExit } from '../src/loadtest/kill-on-exit.js';
import { startService, type Backend } from '../harness/service.js';
import { BACKENDS } from './lib/backends.js';
import { scriptArgs } from './lib/script-args.js';

const USAGE = `npm run bench:drain -- [options]
  Fills the service with N small blobs (POSTs of 1,000), drains them all with the CLI to a file,
  and prints the times, blobs/s and the service's peak RSS as JSON. Writes no file but its own
  temporary ones.
  --blobs N         blobs to fill and drain (default 1000000)
  --backend NAME    ${BACKENDS.join(' | ')} (default leveldb); couchdb uses COUCHDB_URL,
                    else a PouchDB Server in memory started for the run
  --help            this text
  SERVER_NODE_OPTIONS="--max-old-space-size=128" runs the service with those node flags.`;

const { values, fail: usageError } = scriptArgs('drain', USAGE, {
  blobs: { type: 'string', default: '1000000' },
  backend: { type: 'string', default: 'leveldb' },
  help: { type: 'boolean', default: false },
});
if (!BACKENDS.includes(values.backend as Backend)) usageError(`unknown backend: ${values.backend}`);
const total = Number(values.blobs);
if (!Number.isInteger(total) || total <= 0) usageError(`--blobs must be a positive integer, not ${values.blobs}`);
const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-bench-drain-'));
const token = 'bench';
exitOnTermination(); // npm run bench ends this script with SIGTERM when it dies first: the service goes too
const server = await startService(values.backend as Backend, {
  couchdbUrl: process.env.COUCHDB_URL,
  env: { DRAIN_TOKEN: token },
  // SERVER_NODE_OPTIONS, e.g. --max-old-space-size=128, shows whether the drain fits a smaller heap
  nodeArgs: process.env.SERVER_NODE_OPTIONS?.split(' ').filter(Boolean),
});
const { url } = server;

const fillStarted = performance.now();
for (let i = 0; i < total; i += 1000) {
  const blobs = Array.from({ length: Math.min(1000, total - i) }, (_, j) => ({ timestamp: 1_338_000_000 + i + j, lang: 'en', ok: true }));
  const res = await fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(blobs) });
  if (res.status !== 201) throw new Error(`fill: POST answered ${res.status}`);
  await res.arrayBuffer();
}
const fillSeconds = (performance.now() - fillStarted) / 1000;
const peakWhileFilling = await server.peakRssMiB();

const out = path.join(dir, 'drained.ndjson');
const drainStarted = performance.now();
const cli = spawn(process.execPath, ['dist/cli/kpiggybank.js', 'drain', '--url', url, '--token', token, '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
killOnExit(cli);
const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
const drainSeconds = (performance.now() - drainStarted) / 1000;
const left = (await (await fetch(`${url}${Routes.count}`)).json()) as number;
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
      // the kernel's high-water mark once filled, and at the end (the drain's, whenever it is higher)
      serverPeakRssMiB: { filling: peakWhileFilling, overall: await server.peakRssMiB() },
    },
    null,
    2,
  ),
);
await server.stop();
await rm(dir, { recursive: true, force: true });
