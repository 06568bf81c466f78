import { describe, expect, it } from 'vitest';
import { growthChosen } from '../src/heap-growth.js';

describe('growthChosen', () => {
  it('is false when neither node flags nor NODE_OPTIONS set the heap growth', () => {
    expect(growthChosen([], undefined)).toBe(false);
    expect(growthChosen(['--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
    expect(growthChosen(['--heap-growing-percent-x=1'], '')).toBe(false);
  });

  it('sees the flag in node flags and in NODE_OPTIONS, spelt with dashes or underscores', () => {
    expect(growthChosen(['--heap-growing-percent=300'])).toBe(true);
    expect(growthChosen([], '--max-old-space-size=512 --heap_growing_percent=50')).toBe(true);
    expect(growthChosen(['--heap-growing-percent', '50'])).toBe(true);
  });
});
