import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/store/group-commit.js';

/** A fake bulk writer whose writes finish only when the test says so. */
function controlledWriter() {
  const writes: { items: string[]; finish: () => void; fail: (e: Error) => void }[] = [];
  const write = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      writes.push({ items, finish: () => resolve(items.map((i) => `stored:${i}`)), fail: reject });
    });
  return { writes, write };
}

describe('GroupCommit', () => {
  it('writes a lone submission at once, without waiting for company', async () => {
    const { writes, write } = controlledWriter();
    const gc = new GroupCommit(write, { maxItems: 100, concurrency: 1 });
    const result = gc.submit(['a']);
    expect(writes).toHaveLength(1); // started synchronously: no timer in the way
    writes[0]!.finish();
    expect(await result).toEqual(['stored:a']);
  });

  it('coalesces submissions that arrive while a write is in flight, and answers each its own', async () => {
    const { writes, write } = controlledWriter();
    const gc = new GroupCommit(write, { maxItems: 100, concurrency: 1 });
    const first = gc.submit(['a']);
    const queued = [gc.submit(['b', 'c']), gc.submit(['d']), gc.submit(['e', 'f', 'g'])];
    expect(writes).toHaveLength(1);
    writes[0]!.finish();
    await first;
    expect(writes).toHaveLength(2);
    expect(writes[1]!.items).toEqual(['b', 'c', 'd', 'e', 'f', 'g']);
    writes[1]!.finish();
    expect(await Promise.all(queued)).toEqual([['stored:b', 'stored:c'], ['stored:d'], ['stored:e', 'stored:f', 'stored:g']]);
  });

  it('caps a write at maxItems without splitting a submission, and runs `concurrency` writes at once', async () => {
    const { writes, write } = controlledWriter();
    const gc = new GroupCommit(write, { maxItems: 3, concurrency: 2 });
    const all = [gc.submit(['a']), gc.submit(['b']), gc.submit(['c', 'd']), gc.submit(['e', 'f']), gc.submit(['g', 'h', 'i', 'j'])];
    expect(writes.map((w) => w.items)).toEqual([['a'], ['b']]);
    writes[0]!.finish();
    writes[1]!.finish();
    await Promise.all(all.slice(0, 2));
    expect(writes.map((w) => w.items).slice(2)).toEqual([
      ['c', 'd'],
      ['e', 'f'],
    ]);
    writes[2]!.finish();
    await all[2];
    expect(writes[4]!.items).toEqual(['g', 'h', 'i', 'j']); // alone over the cap, still whole
    writes[3]!.finish();
    writes[4]!.finish();
    await Promise.all(all);
  });

  it('fails every submission of a failed write, and only those', async () => {
    const { writes, write } = controlledWriter();
    const gc = new GroupCommit(write, { maxItems: 100, concurrency: 1 });
    const first = gc.submit(['a']);
    const second = gc.submit(['b']);
    const third = gc.submit(['c']);
    writes[0]!.fail(new Error('store down'));
    await expect(first).rejects.toThrow('store down');
    writes[1]!.finish();
    expect(await Promise.all([second, third])).toEqual([['stored:b'], ['stored:c']]);
  });

  it('drains: resolves once everything submitted has been written', async () => {
    const { writes, write } = controlledWriter();
    const gc = new GroupCommit(write, { maxItems: 100, concurrency: 1 });
    await gc.drain(); // idle: at once
    void gc.submit(['a']);
    void gc.submit(['b']);
    let drained = false;
    const draining = gc.drain().then(() => (drained = true));
    writes[0]!.finish();
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    writes[1]!.finish();
    await draining;
    expect(drained).toBe(true);
  });
});
