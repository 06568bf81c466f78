// The feed's opt-in `batch=1` framing, on the wire and through the typed client: asked for, the
// service sends consecutive changes together in `{type:"changes",changes:[…]}` frames (history and
// live batches alike, ≤128 KiB a frame); not asked for, one change a message as before it existed;
// and the typed client, which always asks, decodes both (a service from before batch=1 ignores it).
import { KpiggybankClient, type ChangeFeedOptions, type ChangeMessage } from 'kpiggybank-client';
import { ChangesMessageSchema, FeedCloseCode, FeedEnvelopeSchema, FeedMessageSchema, Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestApp, type TestApp } from './support/app.js';
import { until } from './support/feed-client.js';
import { postBlobs } from './support/post.js';

/** The service's most bytes of changes in one batch=1 frame (src/feed/ws-relay.ts). */
const MAX_FRAME_BYTES = 128 * 1024;

/** Every text message of a raw subscription, as received. */
class RawFeed {
  readonly texts: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.texts.push(String(data)));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }
  get messages(): { type: string }[] {
    return this.texts.map((text) => JSON.parse(text) as { type: string });
  }
  /** The changes in the order received, whatever their framing. */
  get changes(): ChangeMessage[] {
    return this.messages.flatMap((m) => (m.type === 'changes' ? ChangesMessageSchema.parse(m).changes : m.type === 'change' ? [m as ChangeMessage] : []));
  }
}

let app: TestApp;
let wsUrl: string;
/** The history: 1500 blobs of ~300 bytes (~500 KB of changes, several frames' worth). */
let history: string[];

beforeAll(async () => {
  app = await startTestApp('memory');
  wsUrl = `${app.url.replace(/^http/, 'ws')}${Routes.changes}`;
  history = [];
  for (let part = 0; part < 3; part++) {
    history.push(
      ...(await postBlobs(
        app.url,
        Array.from({ length: 500 }, (_, i) => ({ timestamp: 1_700_000_000 + part * 500 + i, note: 'x'.repeat(250), i })),
      )),
    );
  }
});

afterAll(async () => {
  await app?.close();
});

async function subscribe(query: string): Promise<RawFeed> {
  const feed = new RawFeed(new WebSocket(`${wsUrl}?${query}`));
  await new Promise<void>((resolve, reject) => {
    feed.ws.once('open', () => resolve());
    feed.ws.once('error', reject);
  });
  return feed;
}

describe('the feed on the wire', () => {
  it('with batch=1: history and a live batch in `changes` frames of at most 128 KiB, every change once, in order', async () => {
    const feed = await subscribe('since=0&batch=1');
    await until(() => feed.messages.some((m) => m.type === 'live'), 10_000, 'live');
    const live = await postBlobs(
      app.url,
      Array.from({ length: 20 }, (_, i) => ({ timestamp: 1_700_100_000 + i })),
    );
    await until(() => feed.changes.length >= history.length + live.length, 10_000, 'the live batch');
    feed.ws.close();
    await feed.closed;

    for (const message of feed.messages) expect(FeedEnvelopeSchema.safeParse(message).success).toBe(true);
    const liveAt = feed.messages.findIndex((m) => m.type === 'live');
    const before = feed.messages.slice(0, liveAt);
    const after = feed.messages.slice(liveAt + 1);
    // the history: a few frames, each a `changes` message holding many changes
    expect(before.every((m) => m.type === 'changes')).toBe(true);
    expect(before.length).toBeGreaterThan(1); // ~500 KB does not fit one frame
    expect(before.length).toBeLessThan(history.length / 100);
    for (const text of feed.texts) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    // the 20 blobs of one POST reach it as one live batch: fewer frames than changes
    expect(after.every((m) => m.type === 'changes')).toBe(true);
    expect(after.length).toBeLessThan(live.length);

    expect(feed.changes.map((c) => c.id)).toEqual([...history, ...live]);
    const seqs = feed.changes.map((c) => Number(c.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('without batch (or batch=0): one change a message, the same changes', async () => {
    for (const query of ['since=0', 'since=0&batch=0']) {
      const total = await app.store.currentSeq();
      const feed = await subscribe(query);
      await until(() => feed.messages.some((m) => m.type === 'live'), 10_000, 'live');
      feed.ws.close();
      await feed.closed;
      // the whole blob schema, as the page checks it
      for (const message of feed.messages) expect(FeedMessageSchema.safeParse(message).success).toBe(true);
      expect(feed.messages.filter((m) => m.type === 'changes')).toEqual([]);
      expect(feed.messages.filter((m) => m.type === 'change')).toHaveLength(feed.changes.length);
      expect(feed.changes.map((c) => c.id).slice(0, history.length)).toEqual(history);
      expect(feed.changes.at(-1)?.seq).toBe(total);
    }
  });

  it('batch other than 0 or 1: closed with invalid_since, saying so', async () => {
    const feed = await subscribe('since=0&batch=2');
    expect(await feed.closed).toEqual({ code: FeedCloseCode.invalid_since, reason: 'invalid query: batch must be 0 or 1' });
  });
});

describe('the typed client', () => {
  /** ws, recording each frame's type; `batch` false drops batch=1 from the URL, as a service from before it would ignore it. */
  function recordingWebSocket(batch: boolean, types: string[]): NonNullable<ChangeFeedOptions['WebSocket']> {
    class Recording extends WebSocket {
      constructor(url: string) {
        const target = new URL(url);
        expect(target.searchParams.get('batch')).toBe('1'); // the client always asks
        if (!batch) target.searchParams.delete('batch');
        super(target);
        this.on('message', (data) => types.push((JSON.parse(String(data)) as { type: string }).type));
      }
    }
    return Recording as unknown as NonNullable<ChangeFeedOptions['WebSocket']>;
  }

  it.each([
    ['batched frames', true],
    ['single-change frames', false],
  ])('decodes %s: every change once, in order, the docs whole', async (_what, batch) => {
    const types: string[] = [];
    const client = new KpiggybankClient({ baseUrl: app.url });
    const total = Number(await app.store.currentSeq());
    const feed = client.changes({ since: '0', WebSocket: recordingWebSocket(batch, types) });
    const got: ChangeMessage[] = [];
    for await (const change of feed) {
      got.push(change);
      if (Number(change.seq) >= total) break;
    }
    expect(got.map((c) => c.id).slice(0, history.length)).toEqual(history);
    expect(got[0]?.doc).toEqual({ _id: history[0], timestamp: 1_700_000_000, note: 'x'.repeat(250), i: 0 });
    expect(new Set(got.map((c) => c.seq)).size).toBe(got.length);
    if (batch) {
      expect(types).toContain('changes');
      expect(types).not.toContain('change');
      expect(types.length).toBeLessThan(got.length / 100);
    } else {
      expect(types).not.toContain('changes');
      expect(types.filter((type) => type === 'change').length).toBeGreaterThanOrEqual(got.length);
    }
  });
});
