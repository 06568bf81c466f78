import { FeedCloseCode, Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSeqError } from '../src/store/store.js';
import { startTestApp, type TestApp } from './support/app.js';
import { FeedClient } from './support/feed-client.js';
import { postBlobs as post } from './support/post.js';
import { BACKENDS } from './support/stores.js';

/**
 * A consumer resuming against a rebuilt or restored store holds a `since` past the store's end:
 * it must be told (4400, 400), not left waiting for changes that will never come.
 */
describe.each(BACKENDS)('a since beyond the %s store’s sequence', (backend) => {
  let t: TestApp;
  let beyond: string;
  beforeAll(async () => {
    t = await startTestApp(backend);
    await post(t.url, [{ timestamp: 1 }, { timestamp: 2 }]);
    beyond = String(Number((await t.store.currentSeq()).split('-')[0]) + 1000);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is rejected by the store with InvalidSeqError, with and without a wait', async () => {
    await expect(t.store.changes(beyond, { limit: 10, waitMs: 0 })).rejects.toBeInstanceOf(InvalidSeqError);
    await expect(t.store.changes(beyond, { limit: 10, waitMs: 300 })).rejects.toBeInstanceOf(InvalidSeqError);
    // the store's own end is still fine
    const current = await t.store.currentSeq();
    expect((await t.store.changes(current, { limit: 10, waitMs: 0 })).changes).toEqual([]);
  });

  it('closes a WebSocket subscriber with 4400 instead of sending live and then nothing', { timeout: 10_000 }, async () => {
    const client = await FeedClient.connect(t.wsUrl, { since: beyond });
    const closed = await client.closed;
    expect(closed.code).toBe(FeedCloseCode.invalid_since);
    expect(client.isLive).toBe(false);
  });

  it('answers the legacy stream 400 invalid_query as JSON, before any 200', async () => {
    for (const since of [beyond, 'garbage']) {
      const res = await fetch(`${t.url}${Routes.stream}?since=${since}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ error: 'invalid_query', reason: expect.stringContaining('since') });
    }
  });

  it('still serves the legacy stream from a since the store has', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.url}${Routes.stream}?since=0`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('"type":"change"');
    controller.abort();
    await reader.cancel().catch(() => undefined);
  });
});
