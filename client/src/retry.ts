import { backoffDelay } from './portable/backoff.js';
import { KpiggybankError, KpiggybankHttpError } from './errors.js';

/**
 * When a failed call is tried again. Only calls that are safe to repeat are retried: reads, and
 * writes whose blobs all carry an `_id` (the service stores an `_id` once, so a repeat is harmless).
 */
export interface RetryPolicy {
  /** Further attempts after the first; 0 disables retries. */
  retries: number;
  /** Delay before the first retry; doubled each time, with jitter, up to `maxDelayMs`. */
  minDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, minDelayMs: 100, maxDelayMs: 2_000 };

/** Full-jitter exponential backoff: the n-th delay (from 0) is uniform in [0, min(max, min·2ⁿ)]. */
export function retryDelay(policy: Pick<RetryPolicy, 'minDelayMs' | 'maxDelayMs'>, attempt: number, random?: () => number): number {
  return backoffDelay({ firstMs: policy.minDelayMs, maxMs: policy.maxDelayMs, jitter: 'full' }, attempt, random);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `call`, repeating it on retryable kpiggybank errors while the policy allows and `signal` has not aborted. */
export async function withRetry<T>(policy: RetryPolicy, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof KpiggybankError) || !error.retryable || attempt >= policy.retries || signal?.aborted) throw error;
      const asked = error instanceof KpiggybankHttpError ? (error.retryAfterMs ?? 0) : 0;
      await sleep(Math.max(retryDelay(policy, attempt), Math.min(asked, policy.maxDelayMs)));
      if (signal?.aborted) throw error;
    }
  }
}
