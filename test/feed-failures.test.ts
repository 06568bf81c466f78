import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FeedCloseCode, IngestResponseSchema, Routes } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { CouchDbStore } from '../src/store/couchdb/couchdb-store.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { metric, serveApp, type TestApp } from './support/app.js';
import { FeedClient, until } from './support/feed-client.js';
import { startPouchDbServer, type RunningCouch } from '../harness/pouchdb-server.js';
import { freePort } from '../src/loadtest/free-port.js';

async function post(url: string, blobs: object[]): Promise<Response> {
  return fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(blobs) });
}

describe('the change feed when the CouchDB-protocol server restarts mid-stream', () => {
  let couch: RunningCouch | undefined;
  let t: TestApp | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await t?.close();
    await couch?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps subscribers connected, reports the follower down, and loses no change', { timeout: 90_000 }, async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-restart-'));
    const port = await freePort();
    couch = await startPouchDbServer(port, dataDir);
    const connection = loadConfig({ COUCHDB_URL: couch.url }).couch;
    const store = new CouchDbStore({ connection, dbName: 'kpiggybank_restart', groupCommit: { maxItems: 500, concurrency: 2 }, timeoutMs: 2000 });
    await store.open();
    t = await serveApp(store);
    const subscribers = await Promise.all([FeedClient.connect(t.wsUrl), FeedClient.connect(t.wsUrl)]);
    await until(() => subscribers.every((s) => s.isLive), 5000, 'live');

    // A writer posts continuously, retrying with the same _id until it gets its 201 (503 meanwhile).
    const acknowledged: string[] = [];
    let stop = false;
    let unavailable = 0;
    const writer = (async () => {
      for (let i = 0; !stop || i % 10 !== 0; i++) {
        const blob = { _id: `restart-${i}`, timestamp: 1_000 + i };
        for (;;) {
          const res = await post(t!.url, [blob]).catch(() => undefined);
          if (res?.status === 201) {
            acknowledged.push(IngestResponseSchema.parse(await res.json()).ids[0]!);
            break;
          }
          unavailable++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();
    await until(() => acknowledged.length >= 50, 10_000, 'writes before the outage');

    await couch.stop();
    couch = undefined;
    await expect.poll(async () => (await request(t!.url).get(Routes.readyz)).status, { timeout: 10_000 }).toBe(503);
    expect(await metric(t.url, 'kpiggybank_feed_follower_up')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // several seconds down
    couch = await startPouchDbServer(port, dataDir);
    await expect.poll(async () => (await request(t!.url).get(Routes.readyz)).status, { timeout: 15_000 }).toBe(200);
    expect(await metric(t.url, 'kpiggybank_feed_follower_up')).toBe(1);
    const afterRestart = acknowledged.length;
    await until(() => acknowledged.length >= afterRestart + 50, 10_000, 'writes after the restart');
    stop = true;
    await writer;

    expect(unavailable).toBeGreaterThan(0); // the outage was real
    for (const subscriber of subscribers) {
      expect(subscriber.ws.readyState).toBe(subscriber.ws.OPEN);
      await until(() => acknowledged.every((id) => subscriber.changes.some((c) => c.id === id)), 15_000, 'every acknowledged blob');
      const ids = subscriber.changes.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      await subscriber.close();
    }
  });
});

describe('a subscriber that does not read', () => {
  let t: TestApp;
  afterAll(async () => {
    await t.close();
  });

  it('is closed with 4008 once its queue passes the bound, while the others receive everything', { timeout: 120_000 }, async () => {
    t = await serveApp(new MemoryStore(), { feed: { maxQueueBytes: 256 * 1024 } });
    const reader = await FeedClient.connect(t.wsUrl);
    const stalled = await FeedClient.connect(t.wsUrl);
    await until(() => reader.isLive && stalled.isLive, 5000, 'live');
    // A client that never reads: the TCP window fills and the server's queue for it grows.
    const socket = (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();

    const total = 50_000;
    const rss: number[] = [];
    for (let i = 0; i < total; i += 500) {
      const res = await post(
        t.url,
        Array.from({ length: 500 }, (_, j) => ({ timestamp: i + j, payload: 'x'.repeat(200) })),
      );
      expect(res.status).toBe(201);
      rss.push(process.memoryUsage().rss);
    }
    await until(() => reader.changes.length >= total, 60_000, 'the reader to receive all');
    expect(new Set(reader.changes.map((c) => c.id)).size).toBe(total);
    expect(await metric(t.url, 'kpiggybank_feed_subscribers_dropped_total{transport="ws",reason="too_slow"}')).toBe(1);

    socket.resume();
    const closed = await stalled.closed;
    expect(closed.code).toBe(FeedCloseCode.too_slow);
    expect(stalled.changes.length).toBeLessThan(total);
    // It resumes from the last seq it read and gets the rest.
    const resumed = await FeedClient.connect(t.wsUrl, { since: stalled.lastSeq! });
    await until(() => stalled.changes.length + resumed.changes.length >= total, 30_000, 'the rest');
    expect(stalled.changes.length + resumed.changes.length).toBe(total);
    console.log(`slow-consumer test: peak RSS ${(Math.max(...rss) / 2 ** 20).toFixed(0)} MiB (test process: server and clients)`);
    await Promise.all([reader.close(), resumed.close()]);
  });
});

describe('dead connections', () => {
  it('are closed when they stop answering pings', async () => {
    const t = await serveApp(new MemoryStore(), { feed: { pingMs: 100 } });
    try {
      const silent = await FeedClient.connect(t.wsUrl, {}, { autoPong: false });
      const answering = await FeedClient.connect(t.wsUrl);
      await silent.closed;
      expect(await metric(t.url, 'kpiggybank_feed_subscribers_dropped_total{transport="ws",reason="dead"}')).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answering.ws.readyState).toBe(answering.ws.OPEN);
      await answering.close();
    } finally {
      await t.close();
    }
  });
});
