// The export's speed (issue: backfill ≥ 50,000 blobs/s into files, ≥ 40,000 into DuckDB, ≥ 25,000
// into PostgreSQL, the exporter under 200 MiB; follow at 1,000 blobs/s, p99 from 201 to committed
// row under 2 s). N blobs are posted to a fresh leveldb service, then `kpiggybank export --once`
// (the built CLI, a child process) loads them into each destination: wall time from spawn to exit
// (process start included), peak RSS (VmHWM), CPU, and the destination's row count checked.
// Then follow: `export --follow` into files, resumed from the backfill's checkpoint, while blobs
// are posted at a steady rate; each blob's latency is from its 201 to the moment the bench sees
// it in a committed part (the parts `_checkpoint.json` names, polled every 20 ms).
// Results to stdout, to files only where --json / --markdown say.   npx tsx bench/export.ts --help
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Routes } from 'kpiggybank-client/wire';
import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { exitOnTermination, killOnExit } from '../src/loadtest/kill-on-exit.js';
import { processMemory } from '../src/loadtest/proc-status.js';
import { Backends } from './lib/backends.js';
import { kpiBlob } from './lib/blobs.js';
import { cpuSecondsOf } from './lib/processes.js';
import { scriptArgs } from './lib/script-args.js';

const USAGE = `npm run bench:export -- [options]
  Posts N blobs (~600 bytes each) to a fresh leveldb service, then runs \`kpiggybank export --once\`
  (dist/cli/kpiggybank.js) into each destination: blobs/s from spawn to exit, the exporter's peak
  RSS and CPU, the destination's row count checked. Then \`export --follow\` into files while
  blobs are posted at --follow-rate for --follow-seconds: p50/p99 from each 201 to its committed
  row. PostgreSQL: a throwaway cluster (harness/postgres.ts), or the server POSTGRES_URL names.
  Writes no file unless told.
  --blobs N              blobs posted and exported (default 1000000)
  --destinations LIST    comma-separated: files,duckdb,postgres (default all three)
  --max-blobs N          the jobs' batch.max_blobs (default: the exporter's own default)
  --follow-seconds S     length of the follow run; 0 skips it (default 20)
  --follow-rate R        blobs/s posted during the follow run (default 1000)
  --cpu-prof DIR         run each exporter with node --cpu-prof, profiles into DIR
  --json FILE            write the results as JSON
  --markdown FILE        write them as a Markdown table
  --help                 this text`;

const { values, fail } = scriptArgs('export', USAGE, {
  blobs: { type: 'string', default: '1000000' },
  destinations: { type: 'string', default: 'files,duckdb,postgres' },
  'max-blobs': { type: 'string' },
  'follow-seconds': { type: 'string', default: '20' },
  'follow-rate': { type: 'string', default: '1000' },
  'cpu-prof': { type: 'string' },
  json: { type: 'string' },
  markdown: { type: 'string' },
  help: { type: 'boolean', default: false },
});

const DESTINATIONS = ['files', 'duckdb', 'postgres'] as const;
type DestinationKind = (typeof DESTINATIONS)[number];
const isKind = (name: string): name is DestinationKind => (DESTINATIONS as readonly string[]).includes(name);

const positive = (text: string, option: string, zero = false): number => {
  const n = Number(text);
  if (!(Number.isInteger(n) && (n > 0 || (zero && n === 0)))) fail(`--${option} must be a ${zero ? 'non-negative' : 'positive'} integer, not ${text}`);
  return n;
};
const blobs = positive(values.blobs, 'blobs');
const destinations = values.destinations.split(',').map((name) => {
  if (!isKind(name)) return fail(`--destinations takes ${DESTINATIONS.join(', ')}, not ${JSON.stringify(name)}`);
  return name;
});
const maxBlobs = values['max-blobs'] === undefined ? undefined : positive(values['max-blobs'], 'max-blobs');
const followSeconds = positive(values['follow-seconds'], 'follow-seconds', true);
const followRate = positive(values['follow-rate'], 'follow-rate');
const CLI = 'dist/cli/kpiggybank.js';
const JOB = 'bench';

const load = () => loadavg().map((n) => Number(n.toFixed(2)));

// ---- posting ----------------------------------------------------------------------------------

const POST_SIZE = 1000;

async function postBatch(url: string, batch: readonly Record<string, unknown>[]): Promise<string[]> {
  const res = await fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { ids: string[] }).ids;
}

/** N blobs, 1,000 a POST, two POSTs in flight. */
async function postAll(url: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < blobs) {
      const start = next;
      next = Math.min(blobs, next + POST_SIZE);
      await postBatch(
        url,
        Array.from({ length: next - start }, (_, k) => kpiBlob(start + k)),
      );
    }
  };
  await Promise.all([worker(), worker()]);
}

// ---- the exporter as a child process ----------------------------------------------------------

interface ExporterRun {
  ms: number;
  code: number | null;
  peakRssMiB: number;
  cpuSeconds: number;
  /** From the first `loaded` log line to the last: the rate once running. */
  loadedRate: number | undefined;
  batches: number;
  stderrTail: string;
}

interface Exporter {
  readonly pid: number;
  readonly done: Promise<ExporterRun>;
  /** Resolves at the exporter's `caught up` log line. */
  readonly caughtUp: Promise<void>;
  stop(): void;
}

function startExporter(config: string, mode: '--once' | '--follow', label: string): Exporter {
  const profile = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof'], '--cpu-prof-name', `export-${label}.cpuprofile`];
  const started = performance.now();
  const child = spawn(process.execPath, [...profile, CLI, 'export', mode, '--config', config], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killOnExit(child);
  const pid = child.pid ?? fail('the exporter did not start');
  let peak = 0;
  let cpu = 0;
  const sample = async () => {
    const { VmHWM } = await processMemory(pid, ['VmHWM']);
    peak = Math.max(peak, VmHWM);
    const seconds = await cpuSecondsOf(pid);
    if (Number.isFinite(seconds)) cpu = seconds;
  };
  const sampler = setInterval(() => void sample(), 100);
  let tail = '';
  let pending = '';
  let firstLoaded: { at: number; rows: number } | undefined;
  let lastLoaded: { at: number; total: number } | undefined;
  let batches = 0;
  let toldCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => (toldCaughtUp = resolve));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    tail = (tail + text).slice(-4000);
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; time?: number; rows?: number; total_rows?: number };
      if (entry.msg === 'caught up') toldCaughtUp();
      if (entry.msg !== 'loaded' || entry.time === undefined) continue;
      batches++;
      firstLoaded ??= { at: entry.time, rows: entry.rows ?? 0 };
      lastLoaded = { at: entry.time, total: entry.total_rows ?? 0 };
    }
  });
  const done = new Promise<ExporterRun>((resolve) => {
    child.once('exit', (code) => {
      clearInterval(sampler);
      const ms = performance.now() - started;
      const span = firstLoaded && lastLoaded ? lastLoaded.at - firstLoaded.at : 0;
      resolve({
        ms,
        code,
        peakRssMiB: Math.round(peak / 2 ** 20),
        cpuSeconds: Number(cpu.toFixed(2)),
        // the first batch's rows were loaded before its line: the rate counts the ones after it
        loadedRate: firstLoaded && lastLoaded && span > 0 ? Math.round((lastLoaded.total - firstLoaded.rows) / (span / 1000)) : undefined,
        batches,
        stderrTail: tail,
      });
    });
  });
  // VmHWM is the peak so far, so the last sample (at most 100 ms before the exit) holds the run's peak, bar those last 100 ms
  void sample();
  return { pid, done, caughtUp, stop: () => child.kill('SIGTERM') };
}

// ---- destinations -----------------------------------------------------------------------------

interface Target {
  readonly kind: DestinationKind;
  /** The destination's TOML inline table. */
  readonly toml: string;
  /** Rows and distinct _ids in the destination, read once the exporter has exited. */
  count(): Promise<{ rows: number; ids: number }>;
  readonly dir: string;
}

const tomlString = (text: string) => JSON.stringify(text);

async function filesCount(dir: string): Promise<{ rows: number; ids: number }> {
  const ids = new Set<string>();
  let rows = 0;
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.ndjson')) continue;
    const text = await readFile(path.join(dir, name), 'utf8');
    for (const match of text.matchAll(/^\{"_id":("[^"]*")/gm)) {
      rows++;
      ids.add(match[1] as string);
    }
  }
  return { rows, ids: ids.size };
}

async function makeTarget(kind: DestinationKind, postgres: () => Promise<RunningPostgres>): Promise<Target> {
  const dir = await mkdtemp(path.join(tmpdir(), `kpiggybank-bench-export-${kind}-`));
  if (kind === 'files') {
    const parts = path.join(dir, 'parts');
    return { kind, dir, toml: `{ kind = "files", dir = ${tomlString(parts)} }`, count: () => filesCount(parts) };
  }
  if (kind === 'duckdb') {
    const file = path.join(dir, 'bench.duckdb');
    return {
      kind,
      dir,
      toml: `{ kind = "duckdb", path = ${tomlString(file)} }`,
      async count() {
        const instance = await DuckDBInstance.create(file);
        try {
          const connection = await instance.connect();
          const reader = await connection.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT _id)::INTEGER FROM ${JOB}`);
          const [rows, ids] = reader.getRows()[0] as [number, number];
          connection.closeSync();
          return { rows, ids };
        } finally {
          instance.closeSync();
        }
      },
    };
  }
  const server = await postgres();
  // each run its own table, so that a POSTGRES_URL server can be reused
  const table = `bench_export_${process.pid}_${Date.now()}`;
  return {
    kind,
    dir,
    toml: `{ kind = "postgres", url = ${tomlString(server.url)}, table = ${tomlString(table)}, sync_table = ${tomlString(`${table}_sync`)} }`,
    async count() {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const result = await client.query<{ rows: number; ids: number }>(`SELECT count(*)::int AS rows, count(DISTINCT _id)::int AS ids FROM ${table}`);
        await client.query(`DROP TABLE ${table}; DROP TABLE ${table}_sync`);
        return result.rows[0] ?? { rows: 0, ids: 0 };
      } finally {
        await client.end();
      }
    },
  };
}

async function writeConfig(target: Target, url: string): Promise<string> {
  const file = path.join(target.dir, 'export.toml');
  const batch = maxBlobs === undefined ? '' : `batch = { max_blobs = ${maxBlobs} }\n`;
  await writeFile(file, `source = { url = ${tomlString(url)} }\n\n[[exports]]\nname = "${JOB}"\ndestination = ${target.toml}\n${batch}`);
  return file;
}

// ---- follow -----------------------------------------------------------------------------------

interface FollowResult {
  posted: number;
  committed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  peakRssMiB: number;
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** The ids in the parts the current checkpoint names (in place, or still in _staging/), read once each. */
async function committedIds(parts: string, seen: Set<string>, onId: (id: string) => void): Promise<void> {
  const text = await readFile(path.join(parts, '_checkpoint.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  let pending: { name: string; to: string }[];
  try {
    pending = (JSON.parse(text) as { pending: { name: string; to: string }[] }).pending;
  } catch {
    return; // renamed into place whole, so never half; but be safe
  }
  for (const part of pending) {
    if (seen.has(part.name)) continue;
    const body =
      (await readFile(path.join(parts, part.to), 'utf8').catch(() => undefined)) ?? (await readFile(path.join(parts, '_staging', part.name), 'utf8').catch(() => undefined));
    if (body === undefined) continue; // between the two places: the next poll finds it
    seen.add(part.name);
    for (const match of body.matchAll(/^\{"_id":"([^"]*)"/gm)) onId(match[1] as string);
  }
}

async function follow(url: string, target: Target): Promise<FollowResult> {
  const config = await writeConfig(target, url);
  const parts = path.join(target.dir, 'parts');
  const exporter = startExporter(config, '--follow', 'follow');
  await exporter.caughtUp;
  const postedAt = new Map<string, number>();
  const committedAt = new Map<string, number>();
  const seenParts = new Set<string>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      await committedIds(parts, seenParts, (id) => {
        if (!committedAt.has(id)) committedAt.set(id, performance.now());
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  // 10 blobs every 10 ms (at 1,000/s), on a fixed schedule, POSTs overlapping when one is slow
  const perTick = Math.max(1, Math.round(followRate / 100));
  const tickMs = (1000 * perTick) / followRate;
  const total = followRate * followSeconds;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let sent = 0, tick = 0; sent < total; tick++) {
    const due = started + tick * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const batch = Array.from({ length: Math.min(perTick, total - sent) }, (_, k) => kpiBlob(blobs + sent + k, Math.floor(Date.now() / 1000)));
    sent += batch.length;
    inFlight.push(
      postBatch(url, batch).then((ids) => {
        const now = performance.now();
        for (const id of ids) postedAt.set(id, now);
      }),
    );
  }
  await Promise.all(inFlight);
  // every posted blob committed, or 10 s past the last post
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline && [...postedAt.keys()].some((id) => !committedAt.has(id))) await new Promise((resolve) => setTimeout(resolve, 50));
  polling = false;
  await poller;
  exporter.stop();
  const run = await exporter.done;
  const latencies: number[] = [];
  for (const [id, at] of postedAt) {
    const committed = committedAt.get(id);
    if (committed !== undefined) latencies.push(Math.max(0, committed - at));
  }
  latencies.sort((a, b) => a - b);
  return {
    posted: postedAt.size,
    committed: latencies.length,
    p50Ms: Math.round(quantile(latencies, 0.5)),
    p99Ms: Math.round(quantile(latencies, 0.99)),
    maxMs: Math.round(latencies[latencies.length - 1] ?? Number.NaN),
    peakRssMiB: run.peakRssMiB,
  };
}

// ---- the run ----------------------------------------------------------------------------------

interface BackfillRow {
  destination: DestinationKind;
  blobs: number;
  seconds: number;
  blobsPerSecond: number;
  loadedRate: number | undefined;
  batches: number;
  peakRssMiB: number;
  cpuSeconds: number;
  /** The exporter's CPU per blob, the figure a loaded machine skews least. */
  cpuMicrosPerBlob: number;
  serviceCpuSeconds: number;
  rows: number;
  distinctIds: number;
  load: number[];
}

exitOnTermination();
const backends = new Backends();
let postgres: RunningPostgres | undefined;
const startedPostgres = async () => {
  postgres ??= await startPostgres();
  return postgres;
};
const loadAtStart = load();
const backfill: BackfillRow[] = [];
let followResult: FollowResult | undefined;
const dirs: string[] = [];
let failed = false;
try {
  const service = await backends.start('leveldb');
  try {
    const posting = performance.now();
    await postAll(service.url);
    const postMs = performance.now() - posting;
    console.error(`leveldb: ${blobs} blobs posted in ${Math.round(postMs)} ms (${Math.round(blobs / (postMs / 1000))}/s; load ${load().join(' ')})`);
    let filesTarget: Target | undefined;
    for (const kind of destinations) {
      const target = await makeTarget(kind, startedPostgres);
      dirs.push(target.dir);
      const config = await writeConfig(target, service.url);
      const loadBefore = load();
      const serviceBefore = await service.cpuSeconds();
      const run = await startExporter(config, '--once', kind).done;
      if (run.code !== 0) throw new Error(`export --once into ${kind} exited ${run.code}:\n${run.stderrTail}`);
      const { rows, ids } = await target.count();
      const row: BackfillRow = {
        destination: kind,
        blobs,
        seconds: Number((run.ms / 1000).toFixed(2)),
        blobsPerSecond: Math.round(blobs / (run.ms / 1000)),
        loadedRate: run.loadedRate,
        batches: run.batches,
        peakRssMiB: run.peakRssMiB,
        cpuSeconds: run.cpuSeconds,
        cpuMicrosPerBlob: Number(((run.cpuSeconds * 1e6) / blobs).toFixed(1)),
        serviceCpuSeconds: Number(((await service.cpuSeconds()) - serviceBefore).toFixed(2)),
        rows,
        distinctIds: ids,
        load: loadBefore,
      };
      console.error(
        `${kind}: ${row.blobsPerSecond} blobs/s (${row.seconds} s, running ${row.loadedRate ?? '-'}/s, ${row.batches} batches), RSS peak ${row.peakRssMiB} MiB, CPU ${row.cpuSeconds} s (${row.cpuMicrosPerBlob} µs/blob; service ${row.serviceCpuSeconds} s), ${rows} rows, ${ids} ids (load ${loadBefore.join(' ')})`,
      );
      if (rows !== blobs || ids !== blobs) {
        failed = true;
        console.error(`${kind}: expected ${blobs} rows of distinct ids`);
      }
      backfill.push(row);
      if (kind === 'files') filesTarget = target;
    }
    if (followSeconds > 0) {
      if (filesTarget === undefined) {
        // the follow run resumes a files export: catch one up first (not timed)
        filesTarget = await makeTarget('files', startedPostgres);
        dirs.push(filesTarget.dir);
        const run = await startExporter(await writeConfig(filesTarget, service.url), '--once', 'files-catch-up').done;
        if (run.code !== 0) throw new Error(`export --once into files exited ${run.code}:\n${run.stderrTail}`);
      }
      followResult = await follow(service.url, filesTarget);
      console.error(
        `follow (files): ${followResult.committed}/${followResult.posted} committed, p50 ${followResult.p50Ms} ms, p99 ${followResult.p99Ms} ms, max ${followResult.maxMs} ms, RSS peak ${followResult.peakRssMiB} MiB (load ${load().join(' ')})`,
      );
      if (followResult.committed !== followResult.posted) failed = true;
    }
  } finally {
    await service.stop();
  }
} finally {
  await postgres?.stop();
  await backends.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}

const results = {
  date: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
  blobs,
  maxBlobs: maxBlobs ?? 'default',
  loadAverage: { start: loadAtStart, end: load() },
  backfill,
  follow: followResult === undefined ? null : { destination: 'files', rate: followRate, seconds: followSeconds, ...followResult },
};
const table = [
  `Export backfill of ${blobs.toLocaleString('en-US')} blobs from leveldb, \`export --once\` spawn to exit (${results.date}, load ${loadAtStart.join(' ')} → ${results.loadAverage.end.join(' ')}, batch.max_blobs ${results.maxBlobs})`,
  '',
  '| destination | blobs/s | running blobs/s | s | RSS peak MiB | exporter CPU s (µs/blob) | service CPU s | rows ok | load (1 min) |',
  '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ...backfill.map(
    (row) =>
      `| ${row.destination} | ${row.blobsPerSecond.toLocaleString('en-US')} | ${row.loadedRate?.toLocaleString('en-US') ?? '-'} | ${row.seconds} | ${row.peakRssMiB} | ${row.cpuSeconds} (${row.cpuMicrosPerBlob}) | ${row.serviceCpuSeconds} | ${row.rows === blobs && row.distinctIds === blobs ? 'yes' : `no (${row.rows}, ${row.distinctIds} ids)`} | ${row.load[0]} |`,
  ),
  ...(followResult === undefined
    ? []
    : [
        '',
        `Follow into files at ${followRate} blobs/s for ${followSeconds} s: ${followResult.committed}/${followResult.posted} committed; 201 → committed p50 ${followResult.p50Ms} ms, p99 ${followResult.p99Ms} ms, max ${followResult.maxMs} ms; RSS peak ${followResult.peakRssMiB} MiB`,
      ]),
].join('\n');
console.log(JSON.stringify(results, null, 2));
console.log(`\n${table}`);
if (values.json !== undefined) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
if (values.markdown !== undefined) await writeFile(values.markdown, `${table}\n`);
if (failed) process.exitCode = 1;
