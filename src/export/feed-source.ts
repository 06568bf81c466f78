// A job's changes: the service's change feed from the job's checkpoint, read one change at a time
// with a deadline (a batch is loaded max_delay after its first change even when nothing follows),
// and the moment the catch-up ends told as an event of its own (`--once` stops there).
import { type ChangeMessage, FeedCloseCode, type KpiggybankClient, KpiggybankFeedError } from 'kpiggybank-client';

export type FeedEvent =
  | { readonly type: 'change'; readonly change: ChangeMessage }
  /** Every change that existed when the feed was opened has been handed out (once per feed). */
  | { readonly type: 'caught-up' }
  /** The deadline passed first. */
  | { readonly type: 'idle' };

/** The service cannot be read: unreachable, the token refused, a checkpoint it does not know (one line, no stack). */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

const CAUGHT_UP = { type: 'caught-up' } as const satisfies FeedEvent;
const IDLE = { type: 'idle' } as const satisfies FeedEvent;
const LIVE = Symbol('live');
const EMPTY = Symbol('empty');

/** Resolves after the I/O callbacks due now: by then a change the feed holds already has been handed out. */
const afterPendingWork = () => new Promise<typeof EMPTY>((resolve) => setImmediate(() => resolve(EMPTY)));

export interface FeedReaderOptions {
  /** Told when the connection was lost and is being reopened (the feed resumes by itself). */
  onReconnect?: (why: Error) => void;
}

/**
 * The feed of one job. The client's ChangeFeed says `live` when the service has sent the history:
 * the changes queued by then are the catch-up, and the catch-up has ended once they are all
 * handed out and no other is waiting (checked after the I/O due at that instant has run).
 */
export class FeedReader {
  private readonly iterator: AsyncIterator<ChangeMessage>;
  private readonly close_: () => void;
  private pending: Promise<IteratorResult<ChangeMessage>> | undefined;
  private readonly live: Promise<typeof LIVE>;
  private isLive = false;
  private caughtUpTold = false;
  private timer: { deadline: number; promise: Promise<typeof IDLE>; handle: ReturnType<typeof setTimeout> } | undefined;

  constructor(
    client: KpiggybankClient,
    private readonly since: string,
    options: FeedReaderOptions = {},
  ) {
    let goLive: (value: typeof LIVE) => void = () => {};
    this.live = new Promise((resolve) => (goLive = resolve));
    const feed = client.changes({
      since,
      onState: (state, error) => {
        if (state === 'live') {
          this.isLive = true;
          goLive(LIVE);
        } else if (state === 'reconnecting' && error) options.onReconnect?.(error);
      },
    });
    this.iterator = feed[Symbol.asyncIterator]();
    this.close_ = () => feed.close();
  }

  /** The next change, `caught-up` once, or `idle` when `deadline` (epoch ms) passes first; a feed error as a SourceError. */
  async next(deadline?: number): Promise<FeedEvent> {
    try {
      return await this.read(deadline);
    } catch (error) {
      throw explainFeedError(error, this.since);
    }
  }

  private async read(deadline: number | undefined): Promise<FeedEvent> {
    this.pending ??= this.iterator.next();
    const waits: Promise<IteratorResult<ChangeMessage> | FeedEvent | typeof LIVE | typeof EMPTY>[] = [this.pending];
    if (!this.caughtUpTold) waits.push(this.isLive ? afterPendingWork() : this.live);
    if (deadline !== undefined) waits.push(this.idleAt(deadline));
    let outcome = await Promise.race(waits);
    if (outcome === LIVE) {
      // the history is queued: what is not handed out after the work due now is not there
      outcome = await Promise.race([this.pending, afterPendingWork()]);
    }
    if (outcome === EMPTY) {
      this.caughtUpTold = true;
      return CAUGHT_UP;
    }
    if (outcome === IDLE || outcome === CAUGHT_UP) return outcome;
    if (typeof outcome !== 'object' || !('done' in outcome)) return IDLE;
    this.pending = undefined;
    if (outcome.done) throw new Error('the change feed ended');
    return { type: 'change', change: outcome.value };
  }

  /** The changes a feed error left unread are dropped: the job resumes from its checkpoint. */
  close(): void {
    if (this.timer) clearTimeout(this.timer.handle);
    this.timer = undefined;
    this.close_();
    // the pending read resolves `done` (or with the error that ended the feed): nobody waits for it
    this.pending?.catch(() => {});
  }

  /** One timer per deadline, however many changes are read before it. */
  private idleAt(deadline: number): Promise<typeof IDLE> {
    if (this.timer?.deadline === deadline) return this.timer.promise;
    if (this.timer) clearTimeout(this.timer.handle);
    let handle: ReturnType<typeof setTimeout> | undefined;
    const promise = new Promise<typeof IDLE>((resolve) => (handle = setTimeout(() => resolve(IDLE), Math.max(0, deadline - Date.now()))));
    this.timer = { deadline, promise, handle: handle as ReturnType<typeof setTimeout> };
    return promise;
  }
}

/** The feed's own error, in words that say what to do (the token's variable, the checkpoint). */
function explainFeedError(error: unknown, since: string): unknown {
  if (!(error instanceof KpiggybankFeedError)) return error;
  if (error.closeCode === FeedCloseCode.unauthorized) {
    return new SourceError(
      process.env.READ_TOKEN
        ? "the service refused the token in READ_TOKEN: set READ_TOKEN to the service's read token (its READ_TOKEN)"
        : "the service needs its read token and none was given: set READ_TOKEN to the service's read token (its READ_TOKEN)",
    );
  }
  if (error.closeCode === FeedCloseCode.invalid_since) {
    return new SourceError(`the service does not know the checkpoint ${JSON.stringify(since)}: was the destination loaded from another store?`);
  }
  return new SourceError(error.message);
}
