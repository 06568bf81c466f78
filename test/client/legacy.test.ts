import { KPIggyBank } from 'kpiggybank-client/legacy';
import type { StoredBlob, ViewRow } from 'kpiggybank-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { until } from '../support/feed-client.js';
import { BACKENDS } from '../support/stores.js';

const START_TIME = 1333046104322; // the seed's end-to-end test

/** The seed's test blob: a sign-in's KPI data. */
const makeBlob = (timestamp: number) => ({
  timestamp,
  lang: 'en-US',
  screen_size: { width: 1280, height: 800 },
  user_agent: { os: 'Linux', browser: 'Firefox', version: 13 },
  event_stream: [
    ['screen.rp_info', 0],
    ['authenticate.enter_password', 2045],
    ['assertion_generated', 3500],
  ],
});

/** A Node-style callback as a promise. */
function called<T>(start: (callback: (error: Error | null, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, result) => (error ? reject(error) : resolve(result as T))));
}

describe.each(BACKENDS)("the seed's JS API against the %s backend", (backend) => {
  let t: TestApp;
  let api: KPIggyBank;
  beforeAll(async () => {
    t = await startTestApp(backend);
    const { hostname, port } = new URL(t.url);
    api = new KPIggyBank(hostname, port);
  });
  afterAll(async () => {
    api.stopFollowing();
    await t.close();
  });

  it("stores 101 blobs with saveData, counts them, fetches closed and open ranges, answering what the original's lib/api.js did", async () => {
    const saved = await Promise.all(Array.from({ length: 101 }, (_, i) => called<true>((cb) => api.saveData(makeBlob(START_TIME + i), cb))));
    expect(new Set(saved)).toEqual(new Set([true]));
    expect(await called<number>((cb) => api.count(cb))).toBe(101);
    const closed = await called<ViewRow[]>((cb) => api.fetchRange({ start: START_TIME, end: START_TIME + 9 }, cb));
    expect(closed).toHaveLength(10);
    // the view rows of its CouchDB backend: key the timestamp, id, and the blob with its _id as value
    for (const [i, row] of closed.entries()) {
      expect(Object.keys(row).sort()).toEqual(['id', 'key', 'value']);
      expect(row).toEqual({ key: START_TIME + i, id: row.value._id, value: { _id: row.id, ...makeBlob(START_TIME + i) } });
    }
    expect(await called<ViewRow[]>((cb) => api.fetchRange({ start: START_TIME + 91 }, cb))).toHaveLength(10);
    expect(await called<ViewRow[]>((cb) => api.fetchRange(cb))).toHaveLength(101);
  });

  it('emits the new blob as a change after followChanges()', async () => {
    // "now" is where the service's follower is: let it pass the previous test's blobs first
    const storeSeq = Number.parseInt(await t.store.currentSeq(), 10); // CouchDB's "12-g1AAAA…": its number
    await until(() => Number.parseInt(t.hub.status().seq ?? '-1', 10) >= storeSeq, 5000, 'the follower to catch up');
    const change = new Promise<StoredBlob>((resolve) => api.followChanges().once('change', resolve));
    await until(() => t.hub.status().subscribers === 1, 5000, 'the subscription'); // it starts at "now"
    api.saveData(makeBlob(1336575273));
    expect((await change).timestamp).toBe(1336575273);
  });

  it('passes errors to the callback, or to an error listener when there is none', async () => {
    await expect(called((cb) => api.saveData({ timestamp: -1 }, cb))).rejects.toMatchObject({ status: 400, code: 'invalid_blob' });
    const emitted = new Promise<Error>((resolve) => api.once('error', resolve));
    api.saveData({ timestamp: -1 });
    expect(await emitted).toMatchObject({ code: 'invalid_blob' });
  });
});
