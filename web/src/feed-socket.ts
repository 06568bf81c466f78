// web/src/portable is a symbolic link to client/src/portable: the page loads plain ES modules
// from /assets/ with no bundler, so it cannot import the client package at run time; the link
// compiles the package's dependency-free files into the page's own output.
import { backoffDelay, type Backoff } from './portable/backoff.js';
import { FeedCloseCode } from './portable/close-codes.js';
import { parseFeedMessage, type BlobChange, type DeletionChange } from './messages.js';
import { withToken } from './read-token.js';

const RECONNECT: Backoff = { firstMs: 250, maxMs: 5_000, jitter: 'half' };

export type FeedStatus = { state: 'connecting' } | { state: 'live' } | { state: 'reconnecting'; inMs: number } | { state: 'unauthorized' };

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
      if (event.code === FeedCloseCode.unauthorized) {
        this.handlers.status({ state: 'unauthorized' });
        return;
      }
      // A `since` this store does not know (its data was replaced): start again from now.
      if (event.code === FeedCloseCode.invalid_since) this.since = 'now';
      const inMs = Math.round(backoffDelay(RECONNECT, this.retries++));
      this.handlers.status({ state: 'reconnecting', inMs });
      this.timer = setTimeout(() => this.connect(), inMs);
    };
  }
}
