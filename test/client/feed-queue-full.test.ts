// The typed client's change feed during a long backfill read by a consumer that is slow at times
// (the exporter, while it loads a batch): when its queue reaches maxQueued it closes its socket, and
// reopens it from the last change it received once the queue is read. Over a network, the close
// handshake takes a round trip; a consumer that catches up within it must not make the feed take
// its own close for a lost connection (a warning each time, and a backoff that grows through the
// whole backfill, since only `live` resets it). Fixed in 98c8619; before it, this test saw
// "reconnecting: connection lost (1000 client queue full)".
import { type ChangeFeedOptions, type FeedState, KpiggybankClient } from 'kpiggybank-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestApp, type TestApp } from '../support/app.js';
import { postBlobs } from '../support/post.js';

/** How long the close handshake takes here: a round trip to a distant service (on loopback it is over before the queue is read, and the race never shows). */
const CLOSE_ROUND_TRIP_MS = 100;

/** ws, with its `close` event told CLOSE_ROUND_TRIP_MS late, as a far service's answer to a close would come. */
class FarWebSocket extends WebSocket {
  override addEventListener<K extends keyof WebSocket.WebSocketEventMap>(
    type: K,
    listener: ((event: WebSocket.WebSocketEventMap[K]) => void) | { handleEvent(event: WebSocket.WebSocketEventMap[K]): void },
    options?: WebSocket.EventListenerOptions,
  ): void {
    if (type !== 'close' || typeof listener !== 'function') return super.addEventListener(type, listener, options);
    super.addEventListener(type, (event) => setTimeout(() => listener(event), CLOSE_ROUND_TRIP_MS), options);
  }
}

let app: TestApp;
let total: number;

beforeAll(async () => {
  app = await startTestApp('memory');
  for (let part = 0; part < 40; part++)
    await postBlobs(
      app.url,
      Array.from({ length: 500 }, (_, i) => ({ timestamp: 1_700_000_000 + part * 500 + i, note: 'x'.repeat(100) })),
    );
  total = Number(await app.store.currentSeq());
});

afterAll(async () => {
  await app?.close();
});

it('a backfill paused by a full queue resumes from the last change received, at once, without taking its own close for a lost connection', { timeout: 60_000 }, async () => {
  const states: string[] = [];
  const client = new KpiggybankClient({ baseUrl: app.url });
  const feed = client.changes({
    since: '0',
    maxQueued: 500,
    WebSocket: FarWebSocket as unknown as NonNullable<ChangeFeedOptions['WebSocket']>,
    onState: (state: FeedState, error?: Error) => states.push(error ? `${state}: ${error.message}` : state),
  });
  const started = Date.now();
  const seqs: number[] = [];
  for await (const change of feed) {
    seqs.push(Number(change.seq));
    // a load now and then: long enough for the queue to fill, shorter than the close's round trip
    if (seqs.length % 3000 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    if (Number(change.seq) >= total) break;
  }
  const elapsed = Date.now() - started;
  // every change once, in order: the memory store's seqs are 1, 2, 3, …
  expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(states.filter((state) => state.startsWith('reconnecting'))).toEqual([]);
  expect(states.filter((state) => state === 'connecting').length).toBeGreaterThan(0); // it did pause for its queue
  // pauses of a round trip each, not a backoff's seconds
  expect(elapsed).toBeLessThan(5_000);
});
