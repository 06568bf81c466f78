// kpiggybank loadtest: the seed's contract — store and retrieve sign-ins at least twice as fast as
// 1M users make them (100/s) — as a command that exits 1 when the rate is below the target.
import { writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { runLoadTest, type LoadTestResult } from '../loadtest/load-test.js';
import { exitOnTermination } from '../loadtest/kill-on-exit.js';
import { startService, type Backend, type RunningService } from '../loadtest/service.js';

function table(result: LoadTestResult, target: number, backend: string): string {
  const rows: [string, string][] = [
    ['service', backend],
    ['sequences × clients × batch', `${result.sequences} × ${result.clients} × ${result.batch}${result.warmup ? ` (after a warm-up of ${result.warmup})` : ''}`],
    ['stored', `${result.storedPerSecond} blobs/s (${result.storeSeconds} s)`],
    ['retrieved (range + count)', `${result.retrievedPerSecond} blobs/s (${result.retrieveSeconds} s)`],
    [
      'store + retrieve',
      `${result.endToEndPerSecond} blobs/s — target ${target}: ${result.endToEndPerSecond >= target ? `passed ×${(result.endToEndPerSecond / target).toFixed(1)}` : 'FAILED'}`,
    ],
    ['POST latency p50 / p95 / p99 / max', `${result.postLatencyMs.p50} / ${result.postLatencyMs.p95} / ${result.postLatencyMs.p99} / ${result.postLatencyMs.max} ms`],
    ['errors', `${result.errors}${result.firstError ? ` (first: ${result.firstError})` : ''}`],
    ['came back intact', `${result.retrieved - result.altered} of ${result.sequences} (missing ${result.missing}, altered ${result.altered}); count ${result.count}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

/** The load test's options, as `kpiggybank loadtest` parsed them (loadtest-command.ts). */
export interface LoadtestOptions {
  url: string | undefined;
  backend: Backend;
  sequences: number;
  clients: number;
  batch: number;
  warmup: number;
  target: number;
  json: string | undefined;
  token: string | undefined;
}

/** Runs the load test with checked options; resolves with the exit code. */
export async function loadtest(options: LoadtestOptions): Promise<number> {
  const { backend, sequences, target } = options;
  let service: RunningService | undefined;
  // a URL's user and password are secrets: never printed
  const shown = options.url && Object.assign(new URL(options.url), { username: '', password: '' }).href.replace(/\/$/, '');
  if (shown) {
    // a running service keeps what the run writes: its owner must know before it starts
    const blobs = options.warmup + sequences;
    process.stderr.write(
      `kpiggybank loadtest: writing ${blobs.toLocaleString('en-US')} blobs (${options.warmup.toLocaleString('en-US')} warm-up + ${sequences.toLocaleString('en-US')} sign-ins) into ${shown}: they stay in its store (the load test deletes nothing)\n`,
    );
  } else {
    exitOnTermination(); // a load test stopped with SIGTERM stops the service it started
    service = await startService(backend, { couchdbUrl: process.env.COUCHDB_URL });
  }
  const url = options.url ?? service!.url;
  const label = shown || `${backend} (started for the run)`;
  const bar = process.stderr.isTTY ? new SingleBar({ format: 'storing [{bar}] {value}/{total} blobs | {rate} blobs/s', stream: process.stderr }) : undefined;
  let started: number | undefined; // after the warm-up
  bar?.start(sequences, 0, { rate: 0 });
  try {
    const result = await runLoadTest({
      url,
      token: options.token,
      sequences,
      clients: options.clients,
      batch: options.batch,
      warmup: options.warmup,
      onProgress: (stored) => {
        started ??= performance.now();
        bar?.update(stored, { rate: Math.round(stored / Math.max(0.001, (performance.now() - started) / 1000)) });
      },
    });
    bar?.stop();
    const serverPeakRssMiB = await service?.peakRssMiB();
    process.stdout.write(`${table(result, target, label)}${serverPeakRssMiB ? `\nservice peak RSS  ${serverPeakRssMiB} MiB` : ''}\n`);
    const passed = result.endToEndPerSecond >= target && result.errors === 0 && result.missing === 0 && result.altered === 0;
    if (options.json) {
      const report = { date: new Date().toISOString(), service: label, target, passed, serverPeakRssMiB, ...result };
      await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    }
    return passed ? 0 : 1;
  } finally {
    bar?.stop();
    await service?.stop();
  }
}
