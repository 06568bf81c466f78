import type { ChildProcess } from 'node:child_process';

interface WaitOptions {
  /** Named in the error: "the service", "pouchdb-server". */
  what: string;
  timeoutMs?: number;
  /** The process `check` waits for: its exit ends the wait at once, instead of at the timeout. */
  child?: ChildProcess | undefined;
  /** What the process printed, for the error. */
  detail?: (() => string) | undefined;
}

/**
 * The one readiness poll: asks `check` every 100 ms until it answers true. Fails when `child`
 * exits first ("<what> exited with <code>"), or after `timeoutMs` (30 s).
 */
export async function waitUntil(check: () => Promise<boolean> | boolean, { what, timeoutMs = 30_000, child, detail }: WaitOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tail = () => (detail ? `:\n${detail()}` : '');
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready${tail()}`);
    if (child?.signalCode) throw new Error(`${what} was killed by ${child.signalCode} before it was ready${tail()}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs / 1000} s${tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
