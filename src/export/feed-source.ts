// A job's changes: the service's change feed from the job's checkpoint, handed to the pipeline
// without waiting while changes are there (poll), and waited for with a deadline (a batch is
// loaded max_delay after its first change even when nothing follows), with the end of the
// catch-up told once (`--once` stops there).
//
// Waiting makes one promise per wait, resolved by whichever comes first: racing each change
// against long-lived promises (the deadline, the stop, the `live` signal) would leave a reaction
// on each of them per change, and a backfill of millions of changes held them all.
import { type ChangeMessage, FeedCloseCode, type KpiggybankClient, KpiggybankFeedError } from 'kpiggybank-client';

/** What a wait ended with. */
export type FeedWait = 'change' | 'caught-up' | 'idle' | 'stopped';

/** The service cannot be read: unreachable, the token refused, a checkpoint it does not know (one line, no stack). */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

export interface FeedReaderOptions {
  /** Told when the connection was lost and is being reopened (the feed resumes by itself). */
  readonly onReconnect?: (why: Error) => void;
  /** Ends a wait at once ('stopped'). */
  readonly signal?: AbortSignal;
}

/**
 * Changes taken off the client's feed and not handed out yet, at most; the feed holds its own
 * queue behind this one (FEED_QUEUE, most of it as the messages' text: it parses a message when
 * read), and pauses the service past it. Parsed blobs that wait long enough to survive two
 * scavenges end as garbage in V8's old space: measured (bench/export.ts's set-up, 200,000 blobs
 * into files, a shared 2-core machine), 10,000 + 10,000 peaked at 315-360 MiB RSS, 1,000 + 2,000
 * at 258-286 MiB, with the same CPU in the exporter (~21 µs/blob) and the service (~7 µs/blob: its
 * feed is paused and resumed five times as often, which costs it nothing measurable). 200: a
 * message's worth (~200 blobs in 128 KiB), so that what waits here parsed is one message.
 */
const HIGH_WATER = 200;
const FEED_QUEUE = 2_000;

/**
 * The feed of one job. The client's ChangeFeed says `live` when the service has sent its history:
 * the changes queued by then are the catch-up, and it has ended once they are all handed out and
 * no other is there after the work due at that instant (microtasks, then I/O callbacks) has run.
 */
export class FeedReader {
  readonly #since: string;
  readonly #close: () => void;
  readonly #queue: ChangeMessage[] = [];
  #head = 0;
  #live = false;
  #caughtUpTold = false;
  #failure: unknown;
  #ended = false;
  #wake: (() => void) | undefined;
  #wakeScheduled = false;
  #deadline: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resumePump: (() => void) | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(client: KpiggybankClient, since: string, options: FeedReaderOptions = {}) {
    this.#since = since;
    const feed = client.changes({
      since,
      maxQueued: FEED_QUEUE,
      onState: (state, error) => {
        if (state === 'live') {
          this.#live = true;
          this.#notify();
        } else if (state === 'reconnecting' && error) options.onReconnect?.(error);
      },
    });
    this.#close = () => feed.close();
    options.signal?.addEventListener('abort', () => this.#notify(), { once: true });
    this.#signal = options.signal;
    void this.#pump(feed);
  }

  /** A change received and not handed out yet, without waiting; a feed error (once the changes before it are out) as a SourceError. */
  poll(): ChangeMessage | undefined {
    if (this.#head < this.#queue.length) {
      const change = this.#queue[this.#head] as ChangeMessage;
      this.#queue[this.#head++] = undefined as unknown as ChangeMessage;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
        this.#resumePump?.();
      }
      return change;
    }
    if (this.#failure !== undefined) throw this.#failure;
    return undefined;
  }

  /** Waits for a change to poll, the end of the catch-up (told once), `deadline` (epoch ms), or the signal. */
  async wait(deadline?: number): Promise<FeedWait> {
    for (;;) {
      if (this.#head < this.#queue.length || this.#failure !== undefined) return 'change';
      if (this.#signal?.aborted) return 'stopped';
      if (this.#ended) throw new SourceError('the change feed ended');
      if (this.#live && !this.#caughtUpTold) {
        // what the socket brought already is handed to the queue by then
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.#head < this.#queue.length || this.#failure !== undefined) return 'change';
        this.#caughtUpTold = true;
        return 'caught-up';
      }
      const remaining = deadline === undefined ? undefined : deadline - Date.now();
      if (remaining !== undefined && remaining <= 0) return 'idle';
      this.#setDeadline(deadline, remaining);
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** The next change, waiting for it; `caught-up`, `idle` or `stopped` when that comes first. */
  async next(deadline?: number): Promise<ChangeMessage | Exclude<FeedWait, 'change'>> {
    for (;;) {
      const change = this.poll();
      if (change !== undefined) return change;
      const outcome = await this.wait(deadline);
      if (outcome !== 'change') return outcome;
    }
  }

  close(): void {
    this.#setDeadline(undefined, undefined);
    this.#ended = true;
    this.#close();
    this.#resumePump?.();
  }

  /**
   * One timer per deadline, not per wait: a batch's waits share its deadline, and the job waits
   * about once a frame (a setTimeout and a clearTimeout per wait were ~2 % of the exporter's time).
   */
  #setDeadline(deadline: number | undefined, remaining: number | undefined): void {
    if (deadline === this.#deadline) return;
    clearTimeout(this.#timer);
    this.#deadline = deadline;
    this.#timer =
      remaining === undefined
        ? undefined
        : setTimeout(() => {
            // a wait for the same deadline after this sets a timer again if the clock says it is not quite due
            this.#deadline = undefined;
            this.#timer = undefined;
            this.#wake?.();
          }, remaining);
  }

  #notify(): void {
    this.#wake?.();
  }

  /**
   * Wakes a waiting job once the changes the socket brought are all queued, not at the first: the
   * pump moves a frame's changes in microtasks, and woken per change the job polled one, found the
   * queue empty and waited again, a promise and a deadline timer per change.
   */
  #notifySoon(): void {
    if (this.#wakeScheduled || this.#wake === undefined) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.#wake?.();
    });
  }

  /** Moves changes from the client's feed into the queue, pausing while the queue is full. */
  async #pump(feed: AsyncIterable<ChangeMessage>): Promise<void> {
    try {
      for await (const change of feed) {
        this.#queue.push(change);
        this.#notifySoon();
        if (this.#queue.length - this.#head >= HIGH_WATER) {
          await new Promise<void>((resolve) => (this.#resumePump = resolve));
          this.#resumePump = undefined;
        }
        if (this.#ended) return;
      }
    } catch (error) {
      if (!this.#ended) this.#failure = explainFeedError(error, this.#since);
    }
    this.#ended = true;
    this.#notify();
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
    return new SourceError(
      `the service refused the checkpoint ${JSON.stringify(since)}: it is older than the change history the service kept (its store trimmed it after drains; blobs after the checkpoint may be gone, export into a fresh destination), or the destination was loaded from another store`,
    );
  }
  return new SourceError(error.message);
}
