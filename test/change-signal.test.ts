import { describe, expect, it } from 'vitest';
import { ChangeSignal } from '../src/store/change-signal.js';

describe('ChangeSignal', () => {
  it('does not sleep through a notify that came after the version the reader noted', async () => {
    const signal = new ChangeSignal();
    const seen = signal.version; // noted before an asynchronous read
    signal.notify(); // a write lands during the read
    const started = Date.now();
    await signal.wait(10_000, seen);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('wakes a waiter on the next notify, and times out without one', async () => {
    const signal = new ChangeSignal();
    let woken = false;
    const waiting = signal.wait(10_000).then(() => (woken = true));
    expect(woken).toBe(false);
    signal.notify();
    await waiting;
    expect(woken).toBe(true);
    await signal.wait(1); // no notify: resolves after its timeout
  });
});
