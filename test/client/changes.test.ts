import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KpiggybankClient, KpiggybankFeedError, type ChangeMessage, type FeedState } from 'kpiggybank-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CouchDbStore } from '../../src/store/couchdb/couchdb-store.js';
import { LevelDbStore } from '../../src/store/leveldb/leveldb-store.js';
import type { Store } from '../../src/store/store.js';
import { serveApp, startTestApp, type TestApp } from '../support/app.js';
import { inClaimedOrder, keepsWriteOrder } from '../support/change-order.js';
import { until } from '../support/feed-client.js';
import { freePort } from '../../src/loadtest/free-port.js';
import { BACKENDS, couchConnection, dropCouchDb, uniqueDbName } from '../support/stores.js';

const groupCommit = { maxItems: 500, concurrency: 4 };

/** Reads a feed into an array in the background. */
function follow(feed: AsyncIterable<ChangeMessage>): { changes: ChangeMessage[]; done: Promise<unknown> } {
  const changes: ChangeMessage[] = [];
  const done = (async () => {
    for await (const change of feed) changes.push(change);
  })().catch((error: unknown) => error);
  return { changes, done };
}

describe.each(BACKENDS)('the client change feed on the %s backend', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend, { tokens: { read: 'r' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('delivers new blobs and removals, and a new feed resumes from lastSeq with nothing twice', async () => {
    const client = new KpiggybankClient({ baseUrl: t.url, token: 'r' });
    const states: FeedState[] = [];
    const feed = client.changes({ onState: (state) => states.push(state) });
    const first = follow(feed);
    await until(() => states.includes('live'), 5000, 'live');
    const { ids } = await client.save([
      { timestamp: 1, n: 1 },
      { timestamp: 2, n: 2 },
    ]);
    await until(() => first.changes.length === 2, 5000, 'two changes');
    // each once; in the order saved where the backend keeps one (CouchDB's shards may swap them)
    const byId = (doc: { _id?: string | undefined } | undefined) => doc?._id ?? '';
    expect(
      inClaimedOrder(
        backend,
        first.changes.map((c) => c.doc),
        byId,
      ),
    ).toEqual(
      inClaimedOrder(
        backend,
        [
          { _id: ids[0], timestamp: 1, n: 1 },
          { _id: ids[1], timestamp: 2, n: 2 },
        ],
        byId,
      ),
    );
    const resumeAt = feed.lastSeq;
    expect(resumeAt).toBe(first.changes[1]!.seq);
    feed.close();
    await first.done;

    await t.store.remove([ids[0]!]);
    await client.save({ timestamp: 3, n: 3 });
    const again = follow(client.changes({ since: resumeAt }));
    await until(() => again.changes.length === 2, 5000, 'the removal and the third blob');
    // only what came after lastSeq: the removal and the third blob (two documents: on CouchDB in either order)
    const [removal, third] = keepsWriteOrder(backend) ? again.changes : [...again.changes].sort((a, b) => Number(b.deleted ?? false) - Number(a.deleted ?? false));
    expect(removal).toMatchObject({ id: ids[0], deleted: true });
    expect(third!.doc).toMatchObject({ n: 3 });
  });

  it('fails with the close code for a wrong token or an unknown since', async () => {
    const wrong = await follow(new KpiggybankClient({ baseUrl: t.url, token: 'nope' }).changes()).done;
    expect(wrong).toBeInstanceOf(KpiggybankFeedError);
    expect(wrong).toMatchObject({ closeCode: 4401 });
    const since = await follow(new KpiggybankClient({ baseUrl: t.url, token: 'r' }).changes({ since: 'not-a-seq' })).done;
    expect(since).toMatchObject({ closeCode: 4400 });
  });

  it('holds at most maxQueued changes for a slow reader, and still hands out every one once', { timeout: 60_000 }, async () => {
    const client = new KpiggybankClient({ baseUrl: t.url, token: 'r' });
    // `now` is where the service's follower is: on a loaded machine it may still be reading the
    // previous tests' changes (PouchDB Server's longpoll), which would then come first
    const current = await t.store.currentSeq();
    for (let tries = 0; t.hub.status().seq !== current && tries < 500; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
    const states: FeedState[] = [];
    const feed = client.changes({ since: 'now', maxQueued: 50, onState: (state) => states.push(state) });
    const iterator = feed[Symbol.asyncIterator]();
    const first = iterator.next(); // the iterator starts with the first call
    await until(() => states.includes('live'), 5000, 'live');
    const ids: string[] = [];
    for (let wave = 0; wave < 8; wave++) {
      // 50 changes fill the queue: the feed lets go of its socket, and what follows waits on the server
      ids.push(...(await client.save(Array.from({ length: 50 }, (_, i) => ({ timestamp: 10_000 + wave * 50 + i })))).ids);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seen = [(await first).value!.id];
    while (seen.length < ids.length) seen.push((await iterator.next()).value!.id);
    const byId = (id: string) => id;
    expect(inClaimedOrder(backend, seen, byId)).toEqual(inClaimedOrder(backend, ids, byId)); // a repeat would leave one out
    expect(states).toContain('connecting'); // it paused, and came back once the queue was read
    await iterator.return?.(undefined);
  });
});

/** A service over a store that outlives it: restarting it keeps the data, as a real restart would. */
interface Restartable {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

async function restartable(backend: 'leveldb' | 'couchdb'): Promise<Restartable> {
  if (backend === 'leveldb') {
    const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-client-'));
    return {
      async open() {
        const options = { dataDir: dir, dbName: 'bid_kpi', groupCommit };
        const store = new LevelDbStore(options);
        await store.open();
        return store;
      },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const connection = couchConnection();
  const dbName = uniqueDbName();
  return {
    async open() {
      const store = new CouchDbStore({ connection, dbName, groupCommit, timeoutMs: 30_000 });
      await store.open();
      return store;
    },
    cleanup: () => dropCouchDb(connection, dbName),
  };
}

describe.each(['leveldb', 'couchdb'] as const)('a consumer across a restart of the service on %s', (backend) => {
  let backing: Restartable;
  beforeAll(async () => {
    backing = await restartable(backend);
  });
  afterAll(async () => {
    await backing.cleanup();
  });

  it('receives every change exactly once while a writer keeps posting through the restart', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const serve = async () => {
      const store = await backing.open();
      return serveApp(store, { port, onClose: () => store.close() });
    };
    let t = await serve();
    const client = new KpiggybankClient({ baseUrl: t.url, retry: { retries: 100, minDelayMs: 20, maxDelayMs: 200 } });
    const states: FeedState[] = [];
    const feed = client.changes({ minDelayMs: 20, maxDelayMs: 200, onState: (state) => states.push(state) });
    const consumer = follow(feed);
    await until(() => states.includes('live'), 5000, 'live');

    // blobs carry their _id, so the client retries the POSTs that the restart cuts off
    let written = 0;
    let writing = true;
    const writer = (async () => {
      for (let batch = 0; writing; batch++) {
        await client.save(Array.from({ length: 10 }, (_, i) => ({ timestamp: batch, _id: `b${batch}-${i}` })));
        written += 10;
      }
    })();
    await until(() => written >= 200, 20_000, 'writes before the restart');
    await t.close();
    t = await serve();
    await until(() => written >= 500, 30_000, 'writes after the restart');
    writing = false;
    await writer;

    await until(() => consumer.changes.length >= written, 30_000, `all ${written} changes (have ${consumer.changes.length})`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would arrive now
    const ids = consumer.changes.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(written);
    expect(states).toContain('reconnecting');
    feed.close();
    await consumer.done;
    await t.close();
  });
});
