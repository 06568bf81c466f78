import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { KpiggybankClient, KpiggybankError } from 'kpiggybank-client';
import { loginBlob, type LoginBlob } from './login-sequence.js';
import { percentile } from './percentiles.js';

export interface LoadTestOptions {
  url: string;
  token?: string | undefined;
  /** Login sequences (blobs) to store; the seed threw 1,000. */
  sequences: number;
  /** Virtual clients posting at once. */
  clients: number;
  /** Blobs per POST: 1 is how a service posts a sign-in as it happens. */
  batch: number;
  /** Told after each POST of how many blobs are stored so far. */
  onProgress?: ((stored: number) => void) | undefined;
}

export interface LoadTestResult {
  sequences: number;
  clients: number;
  batch: number;
  /** POSTs that failed for good (after the client's retries). */
  errors: number;
  firstError?: string | undefined;
  storeSeconds: number;
  retrieveSeconds: number;
  storedPerSecond: number;
  retrievedPerSecond: number;
  /** Sequences ÷ (store time + retrieve time): the seed's "completely store and retrieve" rate. */
  endToEndPerSecond: number;
  postLatencyMs: { p50: number; p95: number; p99: number; max: number };
  /** What the service counted, and what came back of the run: missing, altered, extra. */
  count: number;
  retrieved: number;
  missing: number;
  altered: number;
}

/**
 * Posts `sequences` sign-in blobs from `clients` concurrent virtual clients through the typed
 * client, then reads the run's range back and compares every blob with what was sent.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const { sequences, clients, batch } = options;
  const client = new KpiggybankClient({ baseUrl: options.url, token: options.token });
  const run = randomBytes(6).toString('hex');
  const base = Date.now(); // unix ms, one apart: the run's range is its own (other blobs in it are skipped)
  const sent = Array.from({ length: sequences }, (_, n) => loginBlob(run, n, base + n));

  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let stored = 0;
  let next = 0;
  const storeStarted = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, Math.ceil(sequences / batch)) }, async () => {
      while (next < sequences) {
        const blobs = sent.slice(next, (next += batch));
        const began = performance.now();
        try {
          await client.save(batch === 1 ? blobs[0]! : blobs);
          latencies.push(performance.now() - began);
          stored += blobs.length;
          options.onProgress?.(stored);
        } catch (error) {
          errors++;
          firstError ??= error instanceof KpiggybankError ? error.message : String(error);
        }
      }
    }),
  );
  const storeSeconds = (performance.now() - storeStarted) / 1000;

  const retrieveStarted = performance.now();
  const byId = new Map<string, LoginBlob>(sent.map((blob) => [blob._id, blob]));
  let retrieved = 0;
  let altered = 0;
  for await (const blob of client.iterate({ start: base, end: base + sequences - 1 })) {
    const original = byId.get(blob._id);
    if (!original) continue; // another writer's blob in the range: not the run's
    retrieved++;
    byId.delete(blob._id);
    if (!isDeepStrictEqual(blob, original)) altered++;
  }
  const count = await client.count();
  const retrieveSeconds = (performance.now() - retrieveStarted) / 1000;

  latencies.sort((a, b) => a - b);
  const round = (value: number, digits = 1) => Number(value.toFixed(digits));
  return {
    sequences,
    clients,
    batch,
    errors,
    firstError,
    storeSeconds: round(storeSeconds, 3),
    retrieveSeconds: round(retrieveSeconds, 3),
    storedPerSecond: Math.round(stored / storeSeconds),
    retrievedPerSecond: Math.round(retrieved / retrieveSeconds),
    endToEndPerSecond: Math.round(retrieved / (storeSeconds + retrieveSeconds)),
    postLatencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
    count,
    retrieved,
    missing: byId.size,
    altered,
  };
}
