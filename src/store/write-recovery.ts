import { rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { StoreHealth } from './store.js';

interface WriteRecoveryOptions {
  /** Wait before the first attempt, doubled after each failed one up to `maxDelayMs` (default 250 ms, up to 2 s). */
  firstDelayMs?: number | undefined;
  maxDelayMs?: number | undefined;
  logger?: Logger | undefined;
  /** Names the store in the log. */
  what: string;
}

/**
 * Reopening replays LevelDB's log into a new table, up to its write buffer (4 MB): a file this
 * large must fit in DATA_DIR before a store closes to reopen, or the reopening fails and leaves
 * it closed, where the database it had kept open still served reads.
 */
const ROOM_TO_REOPEN_BYTES = 4 * 1024 * 1024;

/** Resolves once a file as large as a LevelDB reopening writes fits at `probePath` (removed again); rejects while it does not. */
export async function roomToReopen(probePath: string): Promise<void> {
  try {
    await writeFile(probePath, new Uint8Array(ROOM_TO_REOPEN_BYTES));
  } finally {
    await rm(probePath, { force: true });
  }
}

/**
 * A store whose writes failed in a way only reopening cures (LevelDB keeps refusing every write
 * after one failed to reach the disk, even once space is back): while `writable` is false the
 * store refuses writes at once, and `attempt` (reopen, then a probe write) is retried with
 * backoff until it succeeds.
 */
export class WriteRecovery {
  private failing: { since: Date } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly attempt: () => Promise<void>,
    private readonly options: WriteRecoveryOptions,
  ) {}

  get writable(): boolean {
    return this.failing === undefined;
  }

  health(): StoreHealth {
    const { failing } = this;
    return failing ? { writable: false, reason: `writes have failed since ${failing.since.toISOString()}; the store is reopening until a write succeeds` } : { writable: true };
  }

  /** A write failed: refuse writes from now on, and start reopening unless that is under way. */
  failed(error: unknown): void {
    if (this.stopped || this.failing) return;
    this.failing = { since: new Date() };
    this.options.logger?.error({ err: error }, `${this.options.what}: a write failed; writes are refused (503) until reopening the store succeeds`);
    this.loop = this.run();
  }

  /** No attempt after this; resolves once the one under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let delay = this.options.firstDelayMs ?? 250;
    for (let attempts = 1; ; attempts++) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
        this.timer.unref(); // a store being retried must not keep the process alive
      });
      if (this.stopped) return;
      try {
        await this.attempt();
        const since = this.failing?.since;
        this.failing = undefined;
        this.options.logger?.info(
          { attempts, failedForMs: since && Date.now() - since.getTime() },
          `${this.options.what}: reopened, and a probe write succeeded; writes are accepted again`,
        );
        return;
      } catch (error) {
        this.options.logger?.warn({ err: error, attempts, nextInMs: Math.min(delay * 2, this.options.maxDelayMs ?? 2000) }, `${this.options.what}: still cannot write`);
        delay = Math.min(delay * 2, this.options.maxDelayMs ?? 2000);
      }
    }
  }
}
