import { describe, expect, it } from 'vitest';
import { newBlobId, withIds } from '../src/store/ids.js';

type Blob = { _id?: string; timestamp: number; lang?: string };

describe('withIds', () => {
  it('gives new ids that are unique, 32 hex digits, and sort in the order they were made', () => {
    // enough to span several milliseconds: the order holds across the time part and the counter
    const blobs = Array.from({ length: 70_000 }, (_, i): Blob => ({ timestamp: i }));
    const ids = withIds(blobs).map((blob) => blob._id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it('makes ids that cannot be foretold from the ones before: each ends in 48 random bits', () => {
    // The old ids were time, a per-process tag and a counter: the next one could be chosen by a
    // client before it was made, and two blobs then shared one _id.
    const ids = Array.from({ length: 10_000 }, () => newBlobId());
    const tails = ids.map((id) => id.slice(20));
    expect(new Set(tails).size).toBe(ids.length);
    const [first, second] = ids as [string, string];
    const predicted = first.slice(0, 12) + (parseInt(first.slice(12, 20), 16) + 1).toString(16).padStart(8, '0') + first.slice(20);
    expect(second).not.toBe(predicted);
    // the random bits are spread: every hex digit shows up in every position of the tail
    for (let position = 0; position < 12; position++) expect(new Set(tails.map((tail) => tail[position])).size).toBe(16);
  });

  it('keeps an id the client chose, and puts a new one first, leaving the blob as it was', () => {
    const chosen: Blob = { _id: 'mine', timestamp: 1 };
    const given: Blob = { timestamp: 2, lang: 'en' };
    const [kept, made] = withIds([chosen, given]);
    expect(kept).toBe(chosen);
    expect(Object.keys(made!)).toEqual(['_id', 'timestamp', 'lang']);
    expect(given).toEqual({ timestamp: 2, lang: 'en' });
  });
});
