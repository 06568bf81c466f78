import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, Routes, type Backoff } from 'kpiggybank-client/wire';
import { KpiggybankHttpError, KpiggybankNetworkError } from '../../client/src/errors.js';
import { retryDelay, withRetry } from '../../client/src/retry.js';

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

describe("withRetry: the client's waits between attempts, on fake timers", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** A call that fails with `errors` in turn, then answers 'ok'; `calls` counts its attempts. */
  function flaky(errors: Error[]) {
    const call = {
      calls: 0,
      run: async () => {
        const error = errors[call.calls++];
        if (error) throw error;
        return 'ok';
      },
    };
    return call;
  }

  const down = () => new KpiggybankNetworkError('GET', '/count', false, { cause: new Error('ECONNREFUSED') });
  const unavailable = (retryAfterMs: number) => new KpiggybankHttpError('GET', '/count', 503, 'store_unavailable', 'down', undefined, retryAfterMs);

  it('waits each jittered backoff delay, no less, before the next attempt', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // the jitter's share: delays of 50, 100, 200 ms
    const call = flaky([down(), down(), down()]);
    const result = withRetry({ retries: 3, minDelayMs: 100, maxDelayMs: 2_000 }, call.run);
    const attemptsAfter = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      return call.calls;
    };
    expect(await attemptsAfter(0)).toBe(1);
    expect(await attemptsAfter(49)).toBe(1);
    expect(await attemptsAfter(1)).toBe(2);
    expect(await attemptsAfter(99)).toBe(2);
    expect(await attemptsAfter(1)).toBe(3);
    expect(await attemptsAfter(199)).toBe(3);
    expect(await attemptsAfter(1)).toBe(4);
    await expect(result).resolves.toBe('ok');
  });

  it("waits at least the server's Retry-After (capped at maxDelayMs), gives up after its retries, and never retries a 4xx", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const asked = flaky([unavailable(1_500)]);
    const first = withRetry({ retries: 3, minDelayMs: 100, maxDelayMs: 2_000 }, asked.run);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(asked.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(first).resolves.toBe('ok');

    const capped = flaky([unavailable(60_000)]);
    const second = withRetry({ retries: 3, minDelayMs: 100, maxDelayMs: 2_000 }, capped.run);
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(second).resolves.toBe('ok');

    const always = flaky([down(), down(), down()]);
    const third = withRetry({ retries: 2, minDelayMs: 100, maxDelayMs: 2_000 }, always.run);
    third.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(third).rejects.toBeInstanceOf(KpiggybankNetworkError);
    expect(always.calls).toBe(3);

    const refused = flaky([new KpiggybankHttpError('POST', Routes.blobs, 400, 'invalid_blob', 'no timestamp')]);
    await expect(withRetry({ retries: 3, minDelayMs: 100, maxDelayMs: 2_000 }, refused.run)).rejects.toMatchObject({ status: 400 });
    expect(refused.calls).toBe(1);
  });
});
