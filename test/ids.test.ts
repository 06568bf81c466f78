import { describe, expect, it } from 'vitest';
import { withIds } from '../src/store/ids.js';

type Blob = { _id?: string; timestamp: number; lang?: string };

describe('withIds', () => {
  it('gives new ids that are unique, 28 hex digits, and sort in the order they were made', () => {
    // enough to span several milliseconds: the order holds across the time part and the counter
    const blobs = Array.from({ length: 70_000 }, (_, i): Blob => ({ timestamp: i }));
    const ids = withIds(blobs).map((blob) => blob._id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{28}$/);
    expect([...ids].sort()).toEqual(ids);
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
