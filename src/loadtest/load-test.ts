import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { KpiggybankClient, KpiggybankError } from 'kpiggybank-client';
import { undiciHttp } from 'kpiggybank-client/undici';
import { loginBlob, type LoginBlob } from './login-sequence.js';
import { percentile } from './percentiles.js';

interface LoadTestOptions {
  url: string;
  token?: string | undefined;
  /** Login sequences (blobs) to store; the seed threw 1,000. */
  sequences: number;
  /** Virtual clients posting at once. */
  clients: number;
  /** Blobs per POST: 1 is how a service posts a sign-in as it happens. */
  batch: number;
  /**
   * Sign-ins stored and read back first, not counted (default 0): a service and a generator that
   * have just started spend the first second compiling, which a run of 1,000 blobs would measure.
   */
  warmup?: number | undefined;
  /** Told after each POST of how many blobs are stored so far. */
  onProgress?: ((stored: number) => void) | undefined;
}

export interface LoadTestResult {
  sequences: number;
  clients: number;
  batch: number;
  warmup: number;
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

interface Stored {
  seconds: number;
  /** Blobs the service accepted. */
  stored: number;
  latencies: number[];
  errors: number;
  firstError?: string | undefined;
}

/** POSTs `sent` from `clients` concurrent virtual clients, `batch` blobs per request. */
async function store(client: KpiggybankClient, sent: readonly LoginBlob[], clients: number, batch: number, onProgress?: (stored: number) => void): Promise<Stored> {
  const result: Stored = { seconds: 0, stored: 0, latencies: [], errors: 0 };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, Math.ceil(sent.length / batch)) }, async () => {
      while (next < sent.length) {
        const blobs = sent.slice(next, next + batch);
        next += batch;
        const began = performance.now();
        try {
          await client.save(batch === 1 ? blobs[0]! : blobs);
          result.latencies.push(performance.now() - began);
          result.stored += blobs.length;
          onProgress?.(result.stored);
        } catch (error) {
          result.errors++;
          result.firstError ??= error instanceof KpiggybankError ? error.message : String(error);
        }
      }
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

interface Retrieved {
  seconds: number;
  retrieved: number;
  altered: number;
  /** Sent and not found. */
  missing: number;
  count: number;
}

/** Reads the range of `sent` back (and the count), comparing every blob with what was sent. */
async function retrieve(client: KpiggybankClient, sent: readonly LoginBlob[]): Promise<Retrieved> {
  const started = performance.now();
  const byId = new Map<string, LoginBlob>(sent.map((blob) => [blob._id, blob]));
  let retrieved = 0;
  let altered = 0;
  for await (const blob of client.iterate({ start: sent[0]!.timestamp, end: sent.at(-1)!.timestamp })) {
    const original = byId.get(blob._id);
    if (!original) continue; // another writer's blob in the range: not the run's
    retrieved++;
    byId.delete(blob._id);
    if (!isDeepStrictEqual(blob, original)) altered++;
  }
  const count = await client.count();
  return { seconds: (performance.now() - started) / 1000, retrieved, altered, missing: byId.size, count };
}

/**
 * Posts `sequences` sign-in blobs from `clients` concurrent virtual clients through the typed
 * client, then reads the run's range back and compares every blob with what was sent.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const { sequences, clients, batch, warmup = 0 } = options;
  // undici's request API: Node 20's fetch costs the generator several times what the service spends on a POST
  const undici = undiciHttp({ connections: clients });
  const client = new KpiggybankClient({ baseUrl: options.url, token: options.token, http: undici.http });
  const run = randomBytes(6).toString('hex');
  // unix ms, one apart: each phase's range is its own (other blobs in it are skipped)
  const base = Date.now();
  try {
    // Rounds of the run's own size, each stored then read back: the JIT settles only after the
    // generator has switched between the two a few times (one long round left it half as fast).
    for (let done = 0; done < warmup; done += sequences) {
      const size = Math.min(sequences, warmup - done);
      const warm = Array.from({ length: size }, (_, n) => loginBlob(`${run}w`, done + n, base - warmup + done + n));
      await store(client, warm, clients, batch);
      await retrieve(client, warm);
    }
    const sent = Array.from({ length: sequences }, (_, n) => loginBlob(run, n, base + n));
    const stored = await store(client, sent, clients, batch, options.onProgress);
    const back = await retrieve(client, sent);

    const latencies = stored.latencies.sort((a, b) => a - b);
    const round = (value: number, digits = 1) => Number(value.toFixed(digits));
    return {
      sequences,
      clients,
      batch,
      warmup,
      errors: stored.errors,
      firstError: stored.firstError,
      storeSeconds: round(stored.seconds, 3),
      retrieveSeconds: round(back.seconds, 3),
      storedPerSecond: Math.round(stored.stored / stored.seconds),
      retrievedPerSecond: Math.round(back.retrieved / back.seconds),
      endToEndPerSecond: Math.round(back.retrieved / (stored.seconds + back.seconds)),
      postLatencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
      count: back.count,
      retrieved: back.retrieved,
      missing: back.missing,
      altered: back.altered,
    };
  } finally {
    await undici.close();
  }
}
