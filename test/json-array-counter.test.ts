import { describe, expect, it } from 'vitest';
import { JsonArrayCounter } from '../harness/json-array-counter.js';

describe("the range benchmark's JsonArrayCounter", () => {
  it('counts the objects of a streamed array however the text is cut, braces and quotes in strings included', () => {
    const blobs = [{ a: '{[', b: { c: [1, { d: 2 }] } }, { e: 'say \\"}\\"', f: [] }, {}, { g: '\\\\' }];
    const text = JSON.stringify(blobs);
    for (const size of [1, 2, 3, 7, text.length]) {
      const counter = new JsonArrayCounter();
      for (let i = 0; i < text.length; i += size) {
        expect(counter.done).toBe(false);
        counter.push(text.slice(i, i + size));
      }
      expect(counter.count).toBe(blobs.length);
      expect(counter.done).toBe(true);
    }
    expect(new JsonArrayCounter().done).toBe(false); // nothing received is not an empty array
    const cut = new JsonArrayCounter();
    cut.push(text.slice(0, -1));
    expect(cut.done).toBe(false);
  });
});
