import { describe, expect, it } from 'vitest';
import { backoffDelay, type Backoff } from 'kpiggybank-client/wire';
import { retryDelay } from '../../client/src/retry.js';

// A fixed "random" source, so that each jittered delay is exact.
const always = (value: number) => () => value;

describe('backoffDelay: the one retry-delay formula (server follower, client retries, page reconnects)', () => {
  it('doubles from firstMs up to maxMs, without jitter (the change hub follower: 100 ms to 5 s)', () => {
    const follower: Backoff = { firstMs: 100, maxMs: 5_000, jitter: 'none' };
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => backoffDelay(follower, attempt, always(0)));
    expect(delays).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000]);
  });

  it('full jitter scales the delay by the random share in [0, 1) (the client: 100 ms to 2 s)', () => {
    const client: Backoff = { firstMs: 100, maxMs: 2_000, jitter: 'full' };
    expect(backoffDelay(client, 0, always(0))).toBe(0);
    expect(backoffDelay(client, 2, always(0.5))).toBe(200);
    expect(backoffDelay(client, 10, always(0.25))).toBe(500);
  });

  it('half jitter keeps the delay in [half, whole) (the page: 250 ms to 5 s)', () => {
    const page: Backoff = { firstMs: 250, maxMs: 5_000, jitter: 'half' };
    expect(backoffDelay(page, 0, always(0))).toBe(125);
    expect(backoffDelay(page, 1, always(0.5))).toBe(375);
    expect(backoffDelay(page, 9, always(0))).toBe(2_500);
    expect(backoffDelay(page, 9, always(0.999))).toBeCloseTo(4_997.5);
  });

  it('uses Math.random when no source is given, within the jitter bounds', () => {
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay({ firstMs: 250, maxMs: 5_000, jitter: 'half' }, 3);
      expect(delay).toBeGreaterThanOrEqual(1_000);
      expect(delay).toBeLessThan(2_000);
    }
  });

  it("the client's retryDelay is full jitter over its RetryPolicy's numbers", () => {
    const policy = { minDelayMs: 100, maxDelayMs: 2_000 };
    expect(retryDelay(policy, 3, always(0.5))).toBe(400);
    expect(retryDelay(policy, 8, always(0.5))).toBe(1_000);
  });
});
