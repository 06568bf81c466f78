import { parseFeedMessage, type BlobChange, type DeletionChange } from './messages.js';
import { withToken } from './read-token.js';

/** Close codes of the change feed (the client package's FeedCloseCode). */
const UNAUTHORIZED = 4401;
const INVALID_SINCE = 4400;

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

export type FeedStatus =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'reconnecting'; inMs: number }
  | { state: 'unauthorized' };

export interface FeedHandlers {
  /** `live` is false while the connection is catching up on history (after a reconnect). */
  change(change: BlobChange | DeletionChange, live: boolean): void;
  /** The connection caught up: everything after its `since` was delivered. */
  live(): void;
  status(status: FeedStatus): void;
}

/**
 * The change feed over WebSocket that reconnects by itself: with backoff (250 ms doubling to 5 s,
 * jittered, so that a restarted server is not hit by every page at once), resuming from the last
 * `seq` received, so nothing is missed or repeated across a reconnect.
 */
export class FeedSocket {
  private since = 'now';
  private socket: WebSocket | undefined;
  private retries = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: URL,
    private readonly handlers: FeedHandlers,
  ) {}

  /** Connects now (again, after the user gave a token). */
  connect(): void {
    clearTimeout(this.timer);
    this.socket?.close();
    const url = withToken(new URL(this.url));
    url.searchParams.set('since', this.since);
    const socket = new WebSocket(url);
    this.socket = socket;
    let live = false;
    this.handlers.status({ state: 'connecting' });

    socket.onmessage = (event: MessageEvent<unknown>) => {
      const message = typeof event.data === 'string' ? parseFeedMessage(event.data) : undefined;
      if (message === undefined) return;
      if (message.seq !== null) this.since = message.seq;
      if (message.type === 'change') {
        this.handlers.change(message, live);
        return;
      }
      live = true;
      this.retries = 0;
      this.handlers.live();
      this.handlers.status({ state: 'live' });
    };

    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return; // replaced by a newer connection
      this.socket = undefined;
      if (event.code === UNAUTHORIZED) {
        this.handlers.status({ state: 'unauthorized' });
        return;
      }
      // A `since` this store does not know (its data was replaced): start again from now.
      if (event.code === INVALID_SINCE) this.since = 'now';
      const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.retries++);
      const inMs = Math.round(backoff * (0.5 + Math.random() / 2));
      this.handlers.status({ state: 'reconnecting', inMs });
      this.timer = setTimeout(() => this.connect(), inMs);
    };
  }
}
