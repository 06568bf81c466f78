import { KpiggybankError } from './errors.js';
import { retryDelay } from './retry.js';
import { FeedCloseCode, FeedEnvelopeSchema, type ChangeMessage } from './wire/changes.js';
import { resolveWebSocket, type WebSocketConstructor } from './websocket.js';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface ChangeFeedOptions {
  /** A `seq` from an earlier change (its `seq`, or `feed.lastSeq`), `"0"` for the whole history, or `"now"` (default). */
  since?: string | undefined;
  /** Backoff between reconnections. */
  minDelayMs?: number | undefined;
  maxDelayMs?: number | undefined;
  /** Most changes held for a slow consumer; past it the socket is closed and reopened from the last one once they are read. */
  maxQueued?: number | undefined;
  /** Told of every state change; `error` is why a connection was lost. */
  onState?: ((state: FeedState, error?: Error) => void) | undefined;
  WebSocket?: WebSocketConstructor | undefined;
}

/** The feed cannot go on: the token is refused (4401) or `since` is not a sequence of this store (4400). */
export class KpiggybankFeedError extends KpiggybankError {
  override readonly name = 'KpiggybankFeedError';
  readonly retryable = false;
  constructor(
    readonly closeCode: number,
    reason: string,
  ) {
    super(`the change feed was closed with ${closeCode}: ${reason}`);
  }
}

/**
 * The change feed as an async iterable: every change after `since`, once each, in the store's
 * order, across lost connections and server restarts (it reconnects with backoff from the last
 * `seq` it received). Leaving a `for await` loop, or `close()`, ends it.
 */
export class ChangeFeed implements AsyncIterable<ChangeMessage> {
  private resumeFrom: string;
  private delivered: string;
  private readonly queue: ChangeMessage[] = [];
  /**
   * Messages received and not parsed yet, in order, behind `queue`: a message is parsed when the
   * reader reaches it. Parsed on arrival, a backfill's changes waited in the queue long enough to
   * survive the young generation's collections, and an export's exporter spent more CPU in the
   * garbage collector than in JSON.parse (measured: see parseNext).
   */
  private readonly texts: string[] = [];
  private textsHead = 0;
  /** Characters of JSON per change in the last `changes` message parsed: how many changes the unparsed texts hold, for maxQueued. */
  private charsPerChange = 0;
  private unparsedChars = 0;
  private wake: (() => void) | undefined;
  private socket: WebSocket | undefined;
  private reconnect: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private full = false;
  /** The socket let go of because the queue was full: its close is a pause, not a lost connection. */
  private pausedSocket: WebSocket | undefined;
  private ended = false;
  private failure: Error | undefined;
  private readonly maxQueued: number;

  constructor(
    /** `ws://host:port/wsapi/changes`, without query. */
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly options: ChangeFeedOptions = {},
  ) {
    this.resumeFrom = options.since ?? 'now';
    this.delivered = this.resumeFrom;
    this.maxQueued = options.maxQueued ?? 10_000;
    void this.connect();
  }

  /** Where to resume after the last change handed out: pass it as `since` to see each later change once. */
  get lastSeq(): string {
    return this.delivered;
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.reconnect);
    this.socket?.close(1000, 'client closed the feed');
    this.setState('closed');
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChangeMessage> {
    try {
      for (;;) {
        const change = this.queue.shift();
        if (change) {
          this.delivered = change.seq;
          if (this.full && this.queue.length === 0 && this.textsHead === this.texts.length) this.resume();
          yield change;
          continue;
        }
        if (this.parseNext()) continue;
        if (this.failure) throw this.failure;
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.close();
    }
  }

  private async connect(): Promise<void> {
    if (this.ended) return;
    let WebSocketImpl: WebSocketConstructor;
    try {
      WebSocketImpl = await resolveWebSocket(this.options.WebSocket);
    } catch (error) {
      return this.fail(error instanceof Error ? error : new Error(String(error)));
    }
    // batch=1: several changes a message (a service from before it ignores it and sends one each)
    const params = new URLSearchParams({ since: this.resumeFrom, batch: '1' });
    if (this.token) params.set('token', this.token);
    const socket = new WebSocketImpl(`${this.url}?${params}`);
    this.socket = socket;
    socket.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
    socket.addEventListener('close', (event: CloseEvent) => this.closed(socket, event.code, event.reason));
    socket.addEventListener('error', () => {}); // a close event follows; that is where it is handled
  }

  private receive(data: unknown): void {
    if (this.ended) return;
    if (typeof data !== 'string') return this.fail(notAChange(data));
    this.texts.push(data);
    this.unparsedChars += data.length;
    // The first message is parsed now: it says how large changes are (or that the feed is live).
    if (this.charsPerChange === 0) while (this.parseNext());
    if (this.queuedChanges() >= this.maxQueued && !this.full) {
      this.full = true; // the rest waits on the server until these are read
      this.pausedSocket = this.socket;
      this.socket?.close(1000, 'client queue full');
    }
    this.wake?.();
  }

  /** Changes parsed and not handed out, and an estimate of those in the texts not parsed yet. */
  private queuedChanges(): number {
    return this.queue.length + (this.textsHead === this.texts.length ? 0 : Math.ceil(this.unparsedChars / Math.max(1, this.charsPerChange)));
  }

  /**
   * Parses the next message received and handles it as it would have been on arrival; false when
   * there is none, or when it is not a message of the feed (the feed has then failed). Parsing on
   * arrival let a backfill's changes wait in the queue, parsed, long enough to survive young-
   * generation collections. Measured (`npm run bench:export -- --blobs 300000 --destinations
   * files`, the exporter reading this feed, a shared 2-core machine, with the exporter's
   * FeedReader taking at most 200 at a time and one timer per deadline): 22.2-24.9 µs of exporter
   * CPU per blob against 25.3-26.2 for the same runs of the previous commit, interleaved.
   */
  private parseNext(): boolean {
    if (this.textsHead === this.texts.length || this.failure) return false;
    const text = this.texts[this.textsHead] as string;
    this.texts[this.textsHead++] = '';
    this.unparsedChars -= text.length;
    if (this.textsHead === this.texts.length) {
      this.texts.length = 0;
      this.textsHead = 0;
    }
    const parsed = FeedEnvelopeSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      this.fail(notAChange(text));
      return false;
    }
    const message = parsed.data;
    if (message.type === 'live') {
      this.attempts = 0;
      if (message.seq !== null && this.resumeFrom === 'now') this.resumeFrom = this.delivered = message.seq;
      this.setState('live');
      return true;
    }
    if (message.type === 'changes') {
      if (message.changes.length === 0) return true;
      this.charsPerChange = text.length / message.changes.length;
      for (const change of message.changes) this.queue.push(change);
      this.resumeFrom = message.changes[message.changes.length - 1]!.seq;
    } else {
      this.charsPerChange ||= text.length;
      this.queue.push(message);
      this.resumeFrom = message.seq;
    }
    return true;
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket || this.ended) return;
    this.socket = undefined;
    if (socket === this.pausedSocket) {
      // Our own pause. The queue may be read already (resume() waited for this close, so that
      // the old socket's last frames come before the new one's): reconnect now, not after a
      // backoff. Treated as a lost connection, its delay grew through a backfill (attempts reset
      // only at `live`) to seconds per pause: a 200,000-blob export spent a quarter of its time idle.
      this.pausedSocket = undefined;
      if (!this.full) this.resume();
      return;
    }
    if (code === FeedCloseCode.unauthorized || code === FeedCloseCode.invalid_since) {
      return this.fail(new KpiggybankFeedError(code, reason || (code === FeedCloseCode.unauthorized ? 'missing or wrong read token' : 'unknown since')));
    }
    if (this.full) return; // reopened by resume() once the queue is read
    // the next connection resumes after the last change received, so every message received is parsed first
    while (this.parseNext());
    if (this.ended) return;
    const delay = retryDelay({ minDelayMs: this.options.minDelayMs ?? 100, maxDelayMs: this.options.maxDelayMs ?? 5_000 }, this.attempts++);
    this.setState('reconnecting', new Error(`connection lost (${code}${reason ? ` ${reason}` : ''}); reconnecting from ${this.resumeFrom}`));
    this.reconnect = setTimeout(() => void this.connect(), delay);
  }

  private resume(): void {
    this.full = false;
    if (this.socket || this.ended) return;
    this.setState('connecting');
    void this.connect();
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.socket?.close(1000);
    this.ended = true;
    clearTimeout(this.reconnect);
    this.setState('closed', error);
    this.wake?.();
  }

  private setState(state: FeedState, error?: Error): void {
    this.options.onState?.(state, error);
  }
}

const notAChange = (data: unknown): KpiggybankFeedError => new KpiggybankFeedError(0, `the server sent a message that is not a change: ${String(data).slice(0, 100)}`);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
