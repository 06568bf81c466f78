import { FeedCloseCode, Routes } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeKey, inClaimedOrder, keepsWriteOrder, removalsBeforeWrites } from './support/change-order.js';
import { FeedClient, until } from './support/feed-client.js';
import { allChanges, BACKENDS } from './support/stores.js';
import { metric, pool, startTestApp, type TestApp } from './support/app.js';
import { postBlobs as post } from './support/post.js';

/** The store's own order of these ids: its whole history, read from the start. */
async function historyOrder(t: TestApp, ids: Set<string>): Promise<string[]> {
  const { changes } = await allChanges(t.store, '0', 1000);
  return changes.filter((change) => ids.has(change.id) && !change.deleted).map((change) => change.id);
}

describe.each(BACKENDS)('the change feed on the %s backend', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('delivers a new blob to a live subscriber, and a removal as a deleted change', async () => {
    const client = await FeedClient.connect(t.wsUrl);
    await until(() => client.isLive, 5000, 'live');
    const [kept, removed] = await post(t.url, [
      { timestamp: 10, name: 'kept' },
      { timestamp: 11, name: 'removed' },
    ]);
    await until(() => client.changes.length >= 2, 5000, 'two changes');
    // each once; in the order posted where the backend keeps one (CouchDB's shards may swap them)
    const byId = (pair: readonly [string | undefined, unknown]) => pair[0] ?? '';
    expect(
      inClaimedOrder(
        backend,
        client.changes.map((c) => [c.id, c.doc] as const),
        byId,
      ),
    ).toEqual(
      inClaimedOrder(
        backend,
        [
          [kept, { _id: kept, timestamp: 10, name: 'kept' }],
          [removed, { _id: removed, timestamp: 11, name: 'removed' }],
        ] as const,
        byId,
      ),
    );
    expect(await t.store.remove([removed!])).toBe(1);
    await until(() => client.changes.length >= 3, 5000, 'the deletion');
    // made after the subscriber had both writes, so on every backend the third change
    expect(client.changes[2]).toMatchObject({ id: removed, deleted: true, doc: { _id: removed, _deleted: true } });
    await client.close();
  });

  it('sends live changes of every size whole to each subscriber (frame lengths of 7, 16 and 64 bits)', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => FeedClient.connect(t.wsUrl)));
    const sizes = clients.map((client) => {
      const seen: number[] = [];
      client.ws.on('message', (data: Buffer) => seen.push(data.length));
      return seen;
    });
    await until(() => clients.every((c) => c.isLive), 5000, 'live');
    const blobs = [
      { _id: `s${backend}`, timestamp: 1 },
      { timestamp: 2, text: 'm'.repeat(1_000) },
      { timestamp: 3, text: 'L'.repeat(70_000) },
    ];
    const ids = await post(t.url, blobs);
    await until(() => clients.every((c) => c.changes.length >= 3), 10_000, 'three changes each');
    const byId = (doc: { _id?: string | undefined }) => doc._id ?? '';
    for (const [i, client] of clients.entries()) {
      const docs = client.changes.map((c) => c.doc);
      expect(inClaimedOrder(backend, docs, byId)).toEqual(
        inClaimedOrder(
          backend,
          blobs.map((blob, j) => ({ _id: ids[j], ...blob })),
          byId,
        ),
      );
      // the last three messages are the three changes, in the order they came (the live message may have come before `sizes` listened)
      const sizeOf = new Map(client.changes.map((c, j) => [c.id, sizes[i]!.slice(-3)[j]]));
      const [small, medium, large] = ids.map((id) => sizeOf.get(id!));
      // CouchDB 3's long sequences make even the small message need 16 bits; ours and PouchDB Server's do not
      expect(small).toBeLessThan(client.changes.find((c) => c.id === ids[0])!.seq.length > 20 ? 65_536 : 126);
      expect(medium).toBeGreaterThanOrEqual(126);
      expect(medium).toBeLessThan(65_536);
      expect(large).toBeGreaterThanOrEqual(65_536);
    }
    await Promise.all(clients.map((c) => c.close()));
  });

  it('resumes with since: 10,000 blobs posted across several reconnects arrive exactly once, in store order where the store keeps one', { timeout: 120_000 }, async () => {
    const total = 10_000;
    const received: { id: string; seq: string; conn: number }[] = [];
    let client = await FeedClient.connect(t.wsUrl);
    await until(() => client.isLive, 5000, 'live');
    let posted: string[] = [];
    const posting = pool(total / 20, 8, async (i) =>
      post(
        t.url,
        Array.from({ length: 20 }, (_, j) => ({ timestamp: 100_000 + i * 20 + j, n: i * 20 + j })),
      ),
    ).then((batches) => (posted = batches.flat()));
    // Reconnect from the last seq received, several times while the posts go on.
    let reconnects = 0;
    let since = client.lastSeq!;
    const reconnect = async () => {
      since = client.lastSeq ?? since; // a connection that got nothing yet leaves the resume point where it was
      received.push(...client.changes.map(({ id, seq }) => ({ id, seq, conn: reconnects })));
      await client.close();
      client = await FeedClient.connect(t.wsUrl, { since });
      reconnects++;
    };
    while (reconnects < 6) {
      // each connection takes part: it leaves once it received something (or after 3 s)
      const c = client;
      await until(() => c.changes.length > 0, 3000).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20 * reconnects));
      await reconnect();
    }
    await posting;
    const ids = new Set(posted);
    // wait for every distinct id (a duplicate must not stand in for a missing change)
    const distinct = () => new Set([...received, ...client.changes].filter((c) => ids.has(c.id)).map((c) => c.id)).size;
    await until(() => distinct() >= total, 60_000, 'every change');
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for a late duplicate to show
    received.push(...client.changes.map(({ id, seq }) => ({ id, seq, conn: reconnects })));
    await client.close();

    const ours = received.filter((r) => ids.has(r.id)).map((r) => r.id);
    const firstAt = new Map<string, number>();
    const duplicates = received.flatMap((r, i) => {
      const first = firstAt.get(r.id);
      if (first === undefined) firstAt.set(r.id, i);
      return first === undefined ? [] : [`${r.id} seq ${r.seq} at ${i} (conn ${r.conn}), first at ${first} seq ${received[first]!.seq} (conn ${received[first]!.conn})`];
    });
    expect(duplicates.slice(0, 3)).toEqual([]); // no duplicate: each connection got only what the ones before had not
    expect(ours.length).toBe(total); // no gap
    expect(new Set(ours)).toEqual(ids);
    const history = await historyOrder(t, ids);
    if (keepsWriteOrder(backend)) {
      // one global order: numeric sequences rising across every reconnect, and the store's own order
      expect(received.map((r) => Number(r.seq))).toEqual([...received.map((r) => Number(r.seq))].sort((a, b) => a - b));
      expect(ours).toEqual(history);
    } else {
      // CouchDB interleaves its shards: the same 10,000, in an order that need not be a later replay's
      expect(new Set(history)).toEqual(ids);
    }
  });

  it('replays history from since=0 and then continues live with what arrives during the catch-up', async () => {
    const before = await post(
      t.url,
      Array.from({ length: 50 }, (_, i) => ({ timestamp: 200_000 + i })),
    );
    const sentBefore = (await metric(t.url, 'kpiggybank_feed_messages_sent_total{transport="ws"}')) ?? 0;
    const client = await FeedClient.connect(t.wsUrl, { since: '0' });
    const during = await post(t.url, [{ timestamp: 300_000 }]);
    await until(() => client.isLive, 10_000, 'live');
    const after = await post(t.url, [{ timestamp: 300_001 }]);
    const wanted = [...before, ...during, ...after];
    await until(() => wanted.every((id) => client.changes.some((c) => c.id === id)), 10_000, 'all of them');
    // the whole history as the store reads it now, nothing being written: what the subscriber must have got, each once.
    // Wait for all of it: on CouchDB the newest blobs may come before older history is all sent
    const history = (await allChanges(t.store, '0', 1000)).changes.map(changeKey);
    const wholeHistory = new Set(history);
    await until(() => new Set(client.changes.map(changeKey).filter((key) => wholeHistory.has(key))).size === wholeHistory.size, 10_000, 'the whole history');
    const seen = client.changes.map(changeKey);
    const byKey = (key: string) => key;
    expect(inClaimedOrder(backend, seen, byKey)).toEqual(inClaimedOrder(backend, history, byKey));
    expect(removalsBeforeWrites(client.changes)).toEqual([]);
    // history and live changes alike are counted, once each
    expect(await metric(t.url, 'kpiggybank_feed_messages_sent_total{transport="ws"}')).toBe(sentBefore + client.changes.length);
    await client.close();
  });

  it('serves the legacy stream: one change JSON per line, \\r\\n-separated, each with its doc', async () => {
    const chunks: string[] = [];
    const req = request(t.url)
      .get(Routes.stream)
      .buffer(false)
      .parse((res, done) => {
        res.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
        res.on('end', () => done(null, null));
      });
    const subscribers = t.hub.status().subscribers;
    const response = new Promise((resolve) => req.end(resolve));
    await until(() => t.hub.status().subscribers > subscribers, 5000, 'the stream subscriber');
    const [id] = await post(t.url, [{ timestamp: 400_000, user_agent: { browser: 'Firefox' } }]);
    await until(() => chunks.join('').includes('\r\n'), 5000, 'a line');
    const lines = chunks.join('').split('\r\n').filter(Boolean);
    expect(JSON.parse(lines[0]!)).toMatchObject({ id, seq: expect.any(String), doc: { _id: id, timestamp: 400_000, user_agent: { browser: 'Firefox' } } });
    req.abort();
    await response;
  });

  // A malformed since is refused by the store itself before CouchDB (or PouchDB Server, which would replay everything) sees it.
  it('closes a subscriber with an unknown since with code 4400', async () => {
    const client = await FeedClient.connect(t.wsUrl, { since: 'not-a-seq' });
    const closed = await client.closed;
    expect(closed.code).toBe(FeedCloseCode.invalid_since);
  });
});
