import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/store.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

/** Reads on from `since` until an empty, complete answer: the ids, in order, and where it ended. */
async function readAll(store: Store, since: string): Promise<{ ids: string[]; lastSeq: string }> {
  const ids: string[] = [];
  let cursor = since;
  for (;;) {
    const batch = await store.changes(cursor, { limit: 2, waitMs: 0 });
    ids.push(...batch.changes.map((change) => change.id));
    cursor = batch.lastSeq;
    if (batch.changes.length === 0 && batch.complete) return { ids, lastSeq: cursor };
  }
}

describe.each(BACKENDS)('%s store changes', (backend) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(backend);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('waits for a change when there is none, and resumes after what the wait brought, without a gap or a repeat', async () => {
    const since = await t.store.currentSeq();
    const waiting = t.store.changes(since, { limit: 500, waitMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { ids } = await t.store.save([1, 2, 3, 4, 5].map((timestamp) => ({ timestamp })));
    const woken = await waiting;
    expect(woken.changes.length).toBeGreaterThan(0); // perhaps not all five: a store may wake at the first
    const rest = await readAll(t.store, woken.lastSeq);
    expect([...woken.changes.map((change) => change.id), ...rest.ids]).toEqual(ids);
  });

  it('answers empty and complete when nothing comes within the wait, at a sequence that misses nothing after', async () => {
    await t.store.save([{ timestamp: 1 }]);
    const since = await t.store.currentSeq();
    const quiet = await t.store.changes(since, { limit: 500, waitMs: 300 });
    expect(quiet).toMatchObject({ changes: [], complete: true });
    const { ids } = await t.store.save([{ timestamp: 2 }]);
    expect((await readAll(t.store, quiet.lastSeq)).ids).toEqual(ids);
  });
});
