import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Routes } from 'kpiggybank-client/wire';
import { killOnExit } from '../../src/loadtest/kill-on-exit.js';
import { batchBody, formBody, jsonBody, kpiBlob } from './blobs.js';
import { JsonArrayCounter } from '../../harness/json-array-counter.js';
import type { Backend, Backends } from './backends.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { startBaseline, type Running } from './processes.js';
import type { Row } from './report.js';

export interface Context {
  backends: Backends;
  selected: readonly Backend[];
  seconds: number;
  connections: number;
  rows: Row[];
}

const INGEST_PATH = Routes.blobs;
const BODIES = 64;
const single: Omit<LoadOptions, 'port' | 'seconds' | 'connections'> = {
  path: INGEST_PATH,
  contentType: 'application/json',
  bodies: Array.from({ length: BODIES }, (_, i) => jsonBody(i)),
};
const form: typeof single = { ...single, contentType: 'application/x-www-form-urlencoded', bodies: Array.from({ length: BODIES }, (_, i) => formBody(i)) };
const BATCH = 100;
const batch: typeof single = { ...single, bodies: Array.from({ length: 8 }, (_, i) => batchBody(i, BATCH)) };

/** A short warm-up (the JIT, the store's first writes), then the measured run. */
async function measure(target: Running, load: typeof single, ctx: Context, connections = ctx.connections): Promise<Measured> {
  await runLoad({ ...load, port: target.port, connections, seconds: Math.min(2, ctx.seconds / 3) });
  const cpuBefore = await target.cpuSeconds();
  const result = await runLoad({ ...load, port: target.port, connections, seconds: ctx.seconds });
  const cpuUsPerRequest = Math.round((((await target.cpuSeconds()) - cpuBefore) * 1e6) / Math.max(1, result.requests));
  console.log(
    `  ${target.name}: ${result.requestsPerSecond} requests/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
      `${cpuUsPerRequest} µs CPU per request, ${result.errors} errors`,
  );
  return { ...result, cpuUsPerRequest };
}

/** A load result with the server's CPU time per request: steadier than requests/s on a shared machine. */
type Measured = LoadResult & { cpuUsPerRequest: number };

async function baselineOf(load: typeof single, ctx: Context, connections?: number): Promise<Measured> {
  const baseline = await startBaseline();
  try {
    return await measure(baseline, load, ctx, connections);
  } finally {
    await baseline.stop();
  }
}

async function onService<T>(
  ctx: Context,
  backend: Backend,
  env: Record<string, string>,
  use: (service: Running) => Promise<T>,
): Promise<{ result: T; memory: { peakRssMiB: number; peakAnonMiB: number } }> {
  const service = await ctx.backends.start(backend, env);
  try {
    const result = await use(service);
    return { result, memory: { peakRssMiB: service.peakRssMiB(), peakAnonMiB: service.peakAnonMiB() } };
  } finally {
    await service.stop();
  }
}

/** The embedded default's targets (issue 22): its figure as a share of memory's in the same run. */
const LEVELDB_SHARE_OF_MEMORY: Record<string, number> = { 'single POST, JSON': 0.85, [`batched POST (${BATCH})`]: 0.75, 'range read': 0.5 };

/** The target and whether it is met, for a leveldb row measured after memory's in the same run. */
function shareOfMemory(ctx: Context, scenario: string, backend: Backend, value: number): { target?: string; met?: boolean } {
  const share = LEVELDB_SHARE_OF_MEMORY[scenario];
  // the first: memory's plain run (its MODE=dev variant comes after it)
  const memory = ctx.rows.find((row) => row.scenario === scenario && row.backend === 'memory');
  if (backend !== 'leveldb' || share === undefined || memory === undefined) return {};
  return { target: `≥ ${share * 100} % of memory (${Math.round((value / memory.value) * 100)} %)`, met: value >= share * memory.value };
}

const latency = (r: LoadResult) => ({ p50: r.latencyMs.p50, p99: r.latencyMs.p99 });
const cpu = (r: Measured, base?: Measured) => ({ cpuUsPerRequest: r.cpuUsPerRequest, ...(base && { cpuRatio: Number((base.cpuUsPerRequest / r.cpuUsPerRequest).toFixed(3)) }) });

/** Single-blob POSTs, JSON and the legacy form, against the bare baseline measured just before. */
export async function singleBlob(ctx: Context): Promise<void> {
  for (const [name, load, backends] of [
    ['single POST, JSON', single, ctx.selected],
    ['single POST, legacy form', form, ctx.selected.filter((b) => b === 'memory')],
  ] as const) {
    if (backends.length === 0) continue;
    console.log(`${name}, ${ctx.connections} connections`);
    const base = await baselineOf(load, ctx);
    ctx.rows.push({ scenario: name, backend: 'bare node:http', metric: 'requests/s', value: base.requestsPerSecond, latencyMs: latency(base), ...cpu(base), errors: base.errors });
    const variants: [Backend, Record<string, string>, string | undefined][] = backends.map((b) => [b, {}, undefined]);
    if (load === single && backends.includes('memory')) variants.push(['memory', { MODE: 'dev' }, 'MODE=dev: a log line per request']);
    for (const [backend, env, note] of variants) {
      const { result, memory } = await onService(ctx, backend, env, (s) => measure(s, load, ctx));
      const ratio = result.requestsPerSecond / base.requestsPerSecond;
      const targeted = backend === 'memory' && note === undefined;
      ctx.rows.push({
        scenario: name,
        backend,
        metric: 'requests/s',
        value: result.requestsPerSecond,
        baseline: base.requestsPerSecond,
        ratio: Number(ratio.toFixed(3)),
        latencyMs: latency(result),
        ...cpu(result, base),
        ...memory,
        errors: result.errors,
        ...(targeted && { target: '≥ 50 % of bare', met: ratio >= 0.5 }),
        ...(note ? { note } : shareOfMemory(ctx, name, backend, result.requestsPerSecond)),
      });
    }
  }
}

/** POSTs of 100 blobs each: blobs/s. */
export async function batched(ctx: Context): Promise<void> {
  const connections = Math.min(ctx.connections, 16);
  console.log(`batched POST (${BATCH} blobs), ${connections} connections`);
  const base = await baselineOf(batch, ctx, connections);
  ctx.rows.push({
    scenario: `batched POST (${BATCH})`,
    backend: 'bare node:http',
    metric: 'blobs/s',
    value: base.requestsPerSecond * BATCH,
    latencyMs: latency(base),
    ...cpu(base),
    errors: base.errors,
  });
  const targets: Partial<Record<Backend, number>> = { memory: 100_000 };
  for (const backend of ctx.selected) {
    const { result, memory } = await onService(ctx, backend, {}, (s) => measure(s, batch, ctx, connections));
    const blobs = result.requestsPerSecond * BATCH;
    const target = targets[backend];
    ctx.rows.push({
      scenario: `batched POST (${BATCH})`,
      backend,
      metric: 'blobs/s',
      value: blobs,
      baseline: base.requestsPerSecond * BATCH,
      ratio: Number((result.requestsPerSecond / base.requestsPerSecond).toFixed(3)),
      latencyMs: latency(result),
      ...cpu(result, base),
      ...memory,
      errors: result.errors,
      ...(target ? { target: `≥ ${target.toLocaleString('en-US')} blobs/s`, met: blobs >= target } : shareOfMemory(ctx, `batched POST (${BATCH})`, backend, blobs)),
    });
  }
}

/** The example event schema, which every kpiBlob satisfies. */
const SCHEMA_FILE = fileURLToPath(new URL('../../examples/browserid-signin.schema.toml', import.meta.url));
/**
 * Rounds of (no schema, schema), in alternating order (ABBA…), the best of each kept: on a shared
 * machine noise only slows a measurement down, and alternating spreads a slow spell over both.
 */
const SCHEMA_ROUNDS = 3;

/**
 * The event schema's cost (issue 25): single and batched POSTs on memory without SCHEMA_FILE and
 * with the example schema, in turn, in the same run; targets ≤ 10 % and ≤ 15 % fewer per second.
 */
export async function schemaCost(ctx: Context): Promise<void> {
  if (!ctx.selected.includes('memory')) return;
  for (const [name, load, connections, perRequest, unit, floor] of [
    ['single POST, JSON', single, ctx.connections, 1, 'requests/s', 0.9],
    [`batched POST (${BATCH})`, batch, Math.min(ctx.connections, 16), BATCH, 'blobs/s', 0.85],
  ] as const) {
    console.log(`${name} without and with SCHEMA_FILE, ${connections} connections, ${SCHEMA_ROUNDS} rounds`);
    let plain: Awaited<ReturnType<typeof onService<Measured>>> | undefined;
    let checked: typeof plain;
    const best = (a: typeof plain, b: NonNullable<typeof plain>) => (a === undefined || b.result.requestsPerSecond > a.result.requestsPerSecond ? b : a);
    for (let round = 0; round < SCHEMA_ROUNDS; round++) {
      for (const withSchema of round % 2 === 0 ? [false, true] : [true, false]) {
        const measured = await onService(ctx, 'memory', withSchema ? { SCHEMA_FILE } : {}, (s) => measure(s, load, ctx, connections));
        if (withSchema) checked = best(checked, measured);
        else plain = best(plain, measured);
      }
    }
    if (plain === undefined || checked === undefined) return;
    const value = (m: Measured) => m.requestsPerSecond * perRequest;
    const scenario = `${name}, event schema`;
    ctx.rows.push({
      scenario,
      backend: 'memory',
      metric: unit,
      value: value(plain.result),
      latencyMs: latency(plain.result),
      ...cpu(plain.result),
      ...plain.memory,
      errors: plain.result.errors,
      note: 'no SCHEMA_FILE',
    });
    const ratio = checked.result.requestsPerSecond / plain.result.requestsPerSecond;
    ctx.rows.push({
      scenario,
      backend: 'memory',
      metric: unit,
      value: value(checked.result),
      baseline: value(plain.result),
      ratio: Number(ratio.toFixed(3)),
      latencyMs: latency(checked.result),
      ...cpu(checked.result, plain.result),
      ...checked.memory,
      errors: checked.result.errors,
      target: `≥ ${floor * 100} % of no schema (${Math.round(ratio * 100)} %)`,
      met: ratio >= floor && checked.result.errors === 0,
      note: 'SCHEMA_FILE=examples/browserid-signin.schema.toml; baseline and ratio: the same run without it',
    });
  }
}

/** Single-blob POSTs into a CouchDB-protocol store: group commit against one `_bulk_docs` per blob, same concurrency. */
export async function groupCommit(ctx: Context): Promise<void> {
  if (!ctx.selected.includes('couchdb')) return;
  const c = ctx.connections;
  console.log(`group commit on couchdb, ${c} connections`);
  const perBlob = await onService(ctx, 'couchdb', { BATCH_MAX_DOCS: '1', BATCH_CONCURRENCY: String(c) }, (s) => measure(s, single, ctx));
  const grouped = await onService(ctx, 'couchdb', {}, (s) => measure(s, single, ctx));
  const ratio = grouped.result.requestsPerSecond / perBlob.result.requestsPerSecond;
  const scenario = 'single POST into CouchDB protocol';
  ctx.rows.push({
    scenario,
    backend: 'couchdb',
    metric: 'requests/s',
    value: perBlob.result.requestsPerSecond,
    latencyMs: latency(perBlob.result),
    ...cpu(perBlob.result),
    ...perBlob.memory,
    errors: perBlob.result.errors,
    note: `one write per blob: BATCH_MAX_DOCS=1, BATCH_CONCURRENCY=${c}`,
  });
  ctx.rows.push({
    scenario,
    backend: 'couchdb',
    metric: 'requests/s',
    value: grouped.result.requestsPerSecond,
    latencyMs: latency(grouped.result),
    ...cpu(grouped.result),
    ...grouped.memory,
    errors: grouped.result.errors,
    note: `group commit, ${(ratio).toFixed(1)}× one write per blob`,
    target: '≥ 5× one write per blob',
    met: ratio >= 5,
  });
}

/** Runs another benchmark script and returns the JSON it prints last (its servers' log lines may come before). */
async function script(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  killOnExit(child, 'SIGTERM'); // the script's own exit hooks then stop its service
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const result = JSON.parse(out.slice(out.lastIndexOf('\n{\n') + 1)) as Record<string, unknown>;
    return { ...result, exitCode: code };
  } catch {
    throw new Error(`${args.join(' ')} exited with ${code} and printed no result:\n${out}`);
  }
}

interface FeedResult {
  achievedRate: number;
  deliveries: number;
  expectedDeliveries: number;
  failedPosts: number;
  fromPostSentMs: { p50: number; p99: number };
  postMs: { p50: number; p99: number };
  serverPeakRssMiB: number;
  exitCode: number | null;
}

/** bench/feed-latency.ts: POST → subscriber latency with 100 subscribers at 1,000 blobs/s. */
export async function feed(ctx: Context): Promise<void> {
  const seconds = Math.max(ctx.seconds, 5);
  for (const backend of ctx.selected) {
    console.log(`change feed on ${backend}: 100 subscribers, 1,000 blobs/s, ${seconds} s`);
    const env: Record<string, string> = backend === 'couchdb' ? { COUCHDB_URL: await ctx.backends.couchUrl() } : {};
    const r = (await script(['bench/feed-latency.ts', '--backend', backend, '--seconds', String(seconds)], env)) as unknown as FeedResult;
    console.log(`  p50 ${r.fromPostSentMs.p50} ms, p99 ${r.fromPostSentMs.p99} ms (the POST alone: ${r.postMs.p50} / ${r.postMs.p99}), ${r.achievedRate} blobs/s`);
    const limit = backend === 'couchdb' ? 100 : 20;
    ctx.rows.push({
      scenario: 'change feed, 100 subscribers',
      backend,
      metric: 'blobs/s posted',
      value: r.achievedRate,
      latencyMs: r.fromPostSentMs,
      peakRssMiB: r.serverPeakRssMiB,
      errors: r.failedPosts + r.expectedDeliveries - r.deliveries,
      note: `latency: POST sent → change received; the POST alone (sent → 201) p50 ${r.postMs.p50} / p99 ${r.postMs.p99} ms`,
      target: `p99 < ${limit} ms`,
      met: r.fromPostSentMs.p99 < limit && r.deliveries === r.expectedDeliveries && r.failedPosts === 0,
    });
  }
}

interface DrainResult {
  drainedPerSecond: number;
  leftInStore: number;
  cliExit: number;
  serverPeakRssMiB: { filling: number; overall: number };
}

/** PouchDB Server standing in for CouchDB takes minutes for what CouchDB does in seconds: it gets fewer blobs. */
const onPouchDbServer = (backend: Backend, blobs: number) => (backend === 'couchdb' && !process.env.COUCHDB_URL ? Math.min(blobs, 20_000) : blobs);

/** bench/drain.ts with 100,000 blobs (PouchDB Server: 20,000): fill, then drain them all through the CLI. */
export async function drain(ctx: Context, total: number): Promise<void> {
  for (const backend of ctx.selected) {
    const blobs = onPouchDbServer(backend, total);
    console.log(`drain of ${blobs} blobs on ${backend}`);
    const env: Record<string, string> = backend === 'couchdb' ? { COUCHDB_URL: await ctx.backends.couchUrl() } : {};
    const r = (await script(['bench/drain.ts', '--blobs', String(blobs), '--backend', backend], env)) as unknown as DrainResult;
    console.log(`  ${r.drainedPerSecond} blobs/s`);
    ctx.rows.push({
      scenario: 'drain',
      note: `${blobs.toLocaleString('en-US')} blobs`,
      backend,
      metric: 'blobs/s',
      value: r.drainedPerSecond,
      peakRssMiB: r.serverPeakRssMiB.overall,
      errors: r.leftInStore + (r.cliExit === 0 ? 0 : 1),
    });
  }
}

/** Fills `blobs` blobs in batches of 1,000, 4 requests in flight. */
async function fill(service: Running, blobs: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < blobs) {
      const from = next;
      next += 1000;
      const body = JSON.stringify(Array.from({ length: Math.min(1000, blobs - from) }, (_, k) => kpiBlob(from + k)));
      const res = await fetch(`${service.url}${INGEST_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.status !== 201) throw new Error(`fill: POST answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/**
 * The whole range streamed in one GET: blobs/s. The first range query of a CouchDB store builds
 * its view index (PouchDB Server indexes ~1,000 docs/s); that is done and timed apart, first, and
 * PouchDB Server gets at most 20,000 blobs so the run stays within minutes (COUCHDB_URL: all).
 */
export async function rangeRead(ctx: Context, blobs: number): Promise<void> {
  for (const backend of ctx.selected) {
    const count = onPouchDbServer(backend, blobs);
    console.log(`range read of ${count} blobs on ${backend}`);
    const { result, memory } = await onService(ctx, backend, {}, async (service) => {
      await fill(service, count);
      const indexing = performance.now();
      await (await fetch(`${service.url}${INGEST_PATH}?limit=1`)).arrayBuffer();
      const indexSeconds = (performance.now() - indexing) / 1000;
      // The default shape (the original's view rows) and shape=blobs, each read twice, alternating.
      const reads: Record<Shape, { seconds: number; received: number }[]> = { rows: [], blobs: [] };
      for (let round = 0; round < 2; round++) {
        for (const shape of ['rows', 'blobs'] as const) reads[shape].push(await readRange(`${service.url}${INGEST_PATH}?shape=${shape}`));
      }
      return { reads, indexSeconds };
    });
    const best = (shape: Shape) => result.reads[shape].reduce((a, b) => (b.received / b.seconds > a.received / a.seconds ? b : a));
    const [rows, bare] = [best('rows'), best('blobs')];
    const perSecond = (read: { seconds: number; received: number }) => Math.round(read.received / read.seconds);
    console.log(`  rows ${perSecond(rows)} blobs/s, blobs ${perSecond(bare)} (best of 2 each; first query ${result.indexSeconds.toFixed(1)} s)`);
    ctx.rows.push({
      scenario: 'range read',
      backend,
      metric: 'blobs/s',
      value: perSecond(rows),
      ...memory,
      errors: count - Math.min(...result.reads.rows.map((read) => read.received), ...result.reads.blobs.map((read) => read.received)),
      ...shareOfMemory(ctx, 'range read', backend, perSecond(rows)),
      note: `${count.toLocaleString('en-US')} blobs as view rows (the default) in ${rows.seconds.toFixed(1)} s; shape=blobs ${perSecond(bare)} blobs/s (rows/blobs ${(perSecond(rows) / perSecond(bare)).toFixed(2)}); best of 2 each, alternating; first query (index) ${result.indexSeconds.toFixed(1)} s`,
    });
  }
}

type Shape = 'rows' | 'blobs';

/** One streamed GET of a range: how many top-level array items came, and how long it took. */
function readRange(url: string): Promise<{ seconds: number; received: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const counter = new JsonArrayCounter();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => counter.push(chunk));
      res.on('end', () =>
        counter.done
          ? resolve({ seconds: (performance.now() - started) / 1000, received: counter.count })
          : reject(new Error(`the range ended mid-array after ${counter.count} blobs`)),
      );
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
