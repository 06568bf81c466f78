// kpiggybank loadtest: the seed's contract — store and retrieve sign-ins at least twice as fast as
// 1M users make them (100/s) — as a command that exits 1 when the rate is below the target.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { runLoadTest, type LoadTestResult } from '../loadtest/load-test.js';
import { exitOnTermination } from '../loadtest/kill-on-exit.js';
import { startService, type Backend, type RunningService } from '../loadtest/service.js';

export const LOADTEST_USAGE = `usage: kpiggybank loadtest [--url URL | --backend memory|pouchdb|couchdb] [--sequences 1000]
                           [--clients 50] [--batch 1] [--warmup 5000] [--target 200]
                           [--json FILE] [--token T] [--help]
  Without --url it starts the service itself, on a fresh store of the backend (default pouchdb;
  couchdb uses COUCHDB_URL, or a PouchDB Server it starts). Exits 1 when the store+retrieve rate
  is below --target blobs/s (default 200: twice the seed's 100 sign-ins/s), or a blob is lost,
  altered or refused. --warmup sign-ins are stored and read back first, in rounds of
  --sequences, and not counted.`;

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return value;
}

function nonNegative(name: string, text: string): number {
  return text === '0' ? 0 : positive(name, text);
}

function table(result: LoadTestResult, target: number, backend: string): string {
  const rows: [string, string][] = [
    ['service', backend],
    ['sequences × clients × batch', `${result.sequences} × ${result.clients} × ${result.batch}${result.warmup ? ` (after a warm-up of ${result.warmup})` : ''}`],
    ['stored', `${result.storedPerSecond} blobs/s (${result.storeSeconds} s)`],
    ['retrieved (range + count)', `${result.retrievedPerSecond} blobs/s (${result.retrieveSeconds} s)`],
    ['store + retrieve', `${result.endToEndPerSecond} blobs/s — target ${target}: ${result.endToEndPerSecond >= target ? `passed ×${(result.endToEndPerSecond / target).toFixed(1)}` : 'FAILED'}`],
    ['POST latency p50 / p95 / p99 / max', `${result.postLatencyMs.p50} / ${result.postLatencyMs.p95} / ${result.postLatencyMs.p99} / ${result.postLatencyMs.max} ms`],
    ['errors', `${result.errors}${result.firstError ? ` (first: ${result.firstError})` : ''}`],
    ['came back intact', `${result.retrieved - result.altered} of ${result.sequences} (missing ${result.missing}, altered ${result.altered}); count ${result.count}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

/** Runs the load test from command-line arguments; resolves with the exit code. */
export async function loadtest(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      backend: { type: 'string', default: 'pouchdb' },
      sequences: { type: 'string', default: '1000' },
      clients: { type: 'string', default: '50' },
      batch: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '5000' },
      target: { type: 'string', default: '200' },
      json: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${LOADTEST_USAGE}\n`);
    return 0;
  }
  const backend = values.backend;
  if (backend !== 'memory' && backend !== 'pouchdb' && backend !== 'couchdb') throw new Error(`--backend must be memory, pouchdb or couchdb, not ${backend}`);
  const sequences = positive('sequences', values.sequences);
  const target = positive('target', values.target);

  let service: RunningService | undefined;
  if (!values.url) {
    exitOnTermination(); // a load test stopped with SIGTERM stops the service it started
    service = await startService(backend as Backend, { couchdbUrl: process.env.COUCHDB_URL });
  }
  const url = values.url ?? service!.url;
  const label = values.url ? url : `${backend} (started for the run)`;
  const bar = process.stderr.isTTY ? new SingleBar({ format: 'storing [{bar}] {value}/{total} blobs | {rate} blobs/s', stream: process.stderr }) : undefined;
  let started: number | undefined; // after the warm-up
  bar?.start(sequences, 0, { rate: 0 });
  try {
    const result = await runLoadTest({
      url,
      token: values.token,
      sequences,
      clients: positive('clients', values.clients),
      batch: positive('batch', values.batch),
      warmup: nonNegative('warmup', values.warmup),
      onProgress: (stored) => {
        started ??= performance.now();
        bar?.update(stored, { rate: Math.round(stored / Math.max(0.001, (performance.now() - started) / 1000)) });
      },
    });
    bar?.stop();
    const serverPeakRssMiB = await service?.peakRssMiB();
    process.stdout.write(`${table(result, target, label)}${serverPeakRssMiB ? `\nservice peak RSS  ${serverPeakRssMiB} MiB` : ''}\n`);
    const passed = result.endToEndPerSecond >= target && result.errors === 0 && result.missing === 0 && result.altered === 0;
    if (values.json) {
      const report = { date: new Date().toISOString(), service: label, target, passed, serverPeakRssMiB, ...result };
      await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    }
    return passed ? 0 : 1;
  } finally {
    bar?.stop();
    await service?.stop();
  }
}
