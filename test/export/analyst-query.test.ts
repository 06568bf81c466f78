// An analyst's queries on what `kpiggybank export --once` loaded — events per hour by browser, and
// the count in a time range — give, on the DuckDB file and on PostgreSQL, the counts the service's
// own range reads give. The real CLI in a process of its own, a real leveldb service, a real
// DuckDB file and a throwaway PostgreSQL cluster (harness/postgres.ts, or POSTGRES_URL's server).
//
// A range read compares the stored `timestamp` as a number, both bounds included, so a blob posted
// in seconds and one posted in milliseconds are in different ranges; `at` is the instant either
// way. An hour of `at` is therefore two range reads: [h, h + 3599] in seconds and
// [h·1000, h·1000 + 3,599,999] in milliseconds.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { KpiggybankClient } from 'kpiggybank-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPostgres, startPostgres } from '../../harness/postgres.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { postBlobs } from '../support/post.js';
import { seededRandom } from '../support/seeded-random.js';

const HOUR_S = 3600;
/** 2026-11-30T22:00:00Z: the blobs span this hour to 52 hours later, across three days (UTC). */
const FIRST_HOUR = Date.UTC(2026, 10, 30, 22) / 1000;
const HOURS = 52;
const BROWSERS = ['Chrome', 'Edge', 'Firefox', 'Safari'];

/** The analyst's query (docs/export.md, README.md): events per hour by browser. Same text on DuckDB and PostgreSQL; the session's time zone is UTC. */
const PER_HOUR_BY_BROWSER = `SELECT date_trunc('hour', "at") AS hour, browser, count(*) AS events
FROM events
GROUP BY 1, 2
ORDER BY 1, 2`;

/** The count in a time range, both instants included as a range read includes its bounds: $1 and $2 are Unix seconds. */
const COUNT_BETWEEN = `SELECT count(*) AS n FROM events WHERE "at" BETWEEN to_timestamp($1) AND to_timestamp($2)`;

/** The count of a range of the stored timestamp itself, as a range read takes it (one unit). */
const COUNT_TIMESTAMP_BETWEEN = `SELECT count(*) AS n FROM events WHERE "timestamp" BETWEEN $1 AND $2`;

interface Blob {
  timestamp: number;
  user_agent?: { browser?: unknown; os?: string };
  n: number;
}

/** The blob's instant in ms, read as the export reads `timestamp` (seconds below 1e11). */
const instantMs = (timestamp: number) => (timestamp < 1e11 ? timestamp * 1000 : timestamp);

/**
 * `count` blobs at random instants of the span, half posted in seconds and half in milliseconds,
 * plus blobs on every hour's first and last second and millisecond (the bounds a range or an hour
 * must include exactly once); browsers from BROWSERS, or none, or one that is not text.
 */
function makeBlobs(seed: number, count: number): Blob[] {
  const next = seededRandom(seed);
  const browser = (): Blob['user_agent'] => {
    const r = next();
    if (r < 0.05) return undefined; // no user_agent at all
    if (r < 0.08) return { os: 'Linux' }; // no browser in it
    if (r < 0.1) return { browser: 42 }; // not text: the column is NULL, the value in extra
    return { browser: BROWSERS[Math.floor(next() * BROWSERS.length)] as string, os: 'Linux' };
  };
  const blobs: Blob[] = [];
  const add = (ms: number, inSeconds: boolean) => {
    const user_agent = browser();
    blobs.push({ timestamp: inSeconds ? Math.floor(ms / 1000) : ms, ...(user_agent && { user_agent }), n: blobs.length });
  };
  for (let i = 0; i < count; i++) add(FIRST_HOUR * 1000 + Math.floor(next() * HOURS * HOUR_S * 1000), next() < 0.5);
  for (let h = 0; h < HOURS; h++) {
    const start = (FIRST_HOUR + h * HOUR_S) * 1000;
    add(start, true);
    add(start, false);
    add(start + HOUR_S * 1000 - 1000, true);
    add(start + HOUR_S * 1000 - 1, false);
  }
  return blobs;
}

const browserOf = (blob: Readonly<Record<string, unknown>>): string | null => {
  const agent = blob.user_agent;
  const value = typeof agent === 'object' && agent !== null && 'browser' in agent ? agent.browser : undefined;
  return typeof value === 'string' ? value : null;
};

/** "hour (ms) browser" → count, the shape both sides are compared in. */
type Counts = Map<string, number>;
const key = (hourMs: number, browser: string | null) => `${new Date(hourMs).toISOString()} ${browser ?? '(null)'}`;

function countsOf(rows: readonly { hour: unknown; browser: unknown; events: unknown }[]): Counts {
  const counts: Counts = new Map();
  for (const { hour, browser, events } of rows) {
    if (!(hour instanceof Date)) throw new Error(`hour is not a timestamp: ${String(hour)}`);
    if (browser !== null && typeof browser !== 'string') throw new Error(`browser is not text: ${String(browser)}`);
    counts.set(key(hour.getTime(), browser), Number(events));
  }
  return counts;
}

describe("an analyst's queries on the export", () => {
  let app: TestApp;
  let client: KpiggybankClient;
  let postgres: RunningPostgres;
  let admin: pg.Client;
  let dir: string;
  const schema = `kpiggybank_test_${randomBytes(4).toString('hex')}`;
  const seed = Math.floor(Math.random() * 2 ** 32);
  const blobs = makeBlobs(seed, 3000);

  beforeAll(async () => {
    [app, postgres, dir] = await Promise.all([startTestApp('leveldb'), startPostgres(), mkdtemp(join(tmpdir(), 'analyst-query-'))]);
    client = new KpiggybankClient(app.url);
    admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    // The analyst's session: UTC hours, and the export's schema first (one of this test's own, so that a POSTGRES_URL server's tables are left alone).
    await admin.query(`SET TIME ZONE 'UTC'`);
    await admin.query(`SET search_path TO ${schema}`);
    for (let i = 0; i < blobs.length; i += 500) await postBlobs(app.url, blobs.slice(i, i + 500));
  }, 120_000);

  afterAll(async () => {
    // A POSTGRES_URL server outlives the run: leave it as it was.
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
    await postgres?.stop();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('events per hour by browser, and counts in ranges, are the same on DuckDB, on PostgreSQL and in the service', async () => {
    const config = join(dir, 'export.toml');
    const columns = 'columns = { browser = { path = "user_agent.browser", type = "text" } }';
    await writeFile(
      config,
      `source = { url = "${app.url}" }

[[exports]]
name = "duck"
destination = { kind = "duckdb", path = "kpi.duckdb", table = "events" }
${columns}

[[exports]]
name = "pg"
destination = { kind = "postgres", url = "${postgres.url}", schema = "${schema}", table = "events", partition_days = 1 }
${columns}
`,
    );
    const run = await runCli(['export', '--once', '--config', config]);
    expect(run.code, run.stderr).toBe(0);

    // The service's side: two range reads per hour (seconds, milliseconds), grouped by browser as the column reads it.
    const service: Counts = new Map();
    for (let h = 0; h < HOURS; h++) {
      const start = FIRST_HOUR + h * HOUR_S;
      const [seconds, millis] = await Promise.all([client.range({ start, end: start + HOUR_S - 1 }), client.range({ start: start * 1000, end: (start + HOUR_S) * 1000 - 1 })]);
      for (const blob of [...seconds, ...millis]) {
        const k = key(start * 1000, browserOf(blob));
        service.set(k, (service.get(k) ?? 0) + 1);
      }
    }
    expect([...service.values()].reduce((a, b) => a + b, 0)).toBe(blobs.length);
    expect(await client.count()).toBe(blobs.length);

    const duck = await DuckDBInstance.create(join(dir, 'kpi.duckdb'));
    const connection = await duck.connect();
    try {
      await connection.run(`SET TimeZone = 'UTC'`);
      const onDuckDb = countsOf((await connection.runAndReadAll(PER_HOUR_BY_BROWSER)).getRowObjectsJS() as { hour: unknown; browser: unknown; events: unknown }[]);
      const onPostgres = countsOf((await admin.query(PER_HOUR_BY_BROWSER)).rows);
      const sorted = (counts: Counts) => [...counts].sort(([a], [b]) => a.localeCompare(b));
      expect(sorted(onDuckDb), `seed ${seed}`).toEqual(sorted(service));
      expect(sorted(onPostgres), `seed ${seed}`).toEqual(sorted(service));
      // Every browser, the blobs without one, and every hour are there.
      expect(new Set([...service.keys()].map((k) => k.split(' ')[1]))).toEqual(new Set([...BROWSERS, '(null)']));
      expect(new Set([...service.keys()].map((k) => k.split(' ')[0])).size).toBe(HOURS);

      // Ranges on blobs' bounds: an hour's first second to another hour's last second, and a range ending on a blob's own instant.
      const ranges: [number, number][] = [
        [FIRST_HOUR, FIRST_HOUR + HOUR_S - 1],
        [FIRST_HOUR + 3 * HOUR_S, FIRST_HOUR + 29 * HOUR_S - 1],
        [FIRST_HOUR + 5 * HOUR_S - 1, FIRST_HOUR + 5 * HOUR_S],
        [FIRST_HOUR + 7 * HOUR_S + 1, FIRST_HOUR + 30 * HOUR_S - 2],
        [FIRST_HOUR, FIRST_HOUR + HOURS * HOUR_S],
      ];
      for (const [start, end] of ranges) {
        // The instants from start to end, both included: the seconds range and the milliseconds range of the same span.
        const [seconds, millis] = await Promise.all([client.range({ start, end }), client.range({ start: start * 1000, end: end * 1000 })]);
        const expected = seconds.length + millis.length;
        expect(blobs.filter((blob) => instantMs(blob.timestamp) >= start * 1000 && instantMs(blob.timestamp) <= end * 1000)).toHaveLength(expected);
        const duckN = (await connection.runAndReadAll(COUNT_BETWEEN, [start, end])).getRowObjectsJS()[0]?.n;
        const pgN = (await admin.query<{ n: string }>(COUNT_BETWEEN, [start, end])).rows[0]?.n;
        expect([Number(duckN), Number(pgN)], `at from ${start} to ${end}, seed ${seed}`).toEqual([expected, expected]);

        // A range of the stored timestamp, in one unit, is the range read itself.
        for (const [low, high, read] of [
          [start, end, seconds.length],
          [start * 1000, end * 1000, millis.length],
        ] as const) {
          const duckT = (await connection.runAndReadAll(COUNT_TIMESTAMP_BETWEEN, [BigInt(low), BigInt(high)])).getRowObjectsJS()[0]?.n;
          const pgT = (await admin.query<{ n: string }>(COUNT_TIMESTAMP_BETWEEN, [low, high])).rows[0]?.n;
          expect([Number(duckT), Number(pgT)], `timestamp from ${low} to ${high}, seed ${seed}`).toEqual([read, read]);
        }
      }
    } finally {
      connection.closeSync();
      duck.closeSync();
    }
  }, 180_000);
});
