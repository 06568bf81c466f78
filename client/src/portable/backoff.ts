// Dependency-free (no zod, no Node API), like everything in client/src/portable/: the server and
// the client import it through the package, the page through web/src/portable, a symbolic link to
// this folder (the page loads plain ES modules, with no bundler to resolve the package).

/**
 * How much of each delay is randomised, so that many clients that failed together do not retry
 * together: `none` waits the whole delay, `full` a uniform share of it in [0, 1), `half` a uniform
 * share in [0.5, 1) (never less than half, so a retry is not immediate).
 */
export type BackoffJitter = 'none' | 'full' | 'half';

export interface Backoff {
  /** The delay before the first retry (attempt 0), in ms; doubled each attempt. */
  firstMs: number;
  /** No delay is longer than this, in ms. */
  maxMs: number;
  jitter: BackoffJitter;
}

/**
 * The delay before retry number `attempt` (from 0): min(maxMs, firstMs·2^attempt), scaled by the
 * jitter. `random` returns a number in [0, 1); it is a parameter so that tests can fix it.
 */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.firstMs * 2 ** attempt);
  switch (backoff.jitter) {
    case 'none':
      return ceiling;
    case 'full':
      return ceiling * random();
    case 'half':
      return ceiling * (0.5 + random() / 2);
  }
}
