import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { FeedCloseCode, FeedQuerySchema, Routes, type LiveMessage } from 'kpiggybank-client/wire';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { givenToken, tokenMatches } from '../access/tokens.js';
import type { OriginPolicy } from '../access/origin-policy.js';
import type { Metrics } from '../observability/metrics.js';
import type { ChangeHub } from './change-hub.js';
import { encodedOnce, type SharedBatch } from './shared-batch.js';
import type { EndReason, FeedSink } from './sink.js';
import { changesFrames, textFrames } from './ws-frame.js';

interface WebSocketRelayOptions {
  hub: ChangeHub;
  metrics: Metrics;
  logger: Logger;
  readToken?: string | undefined;
  /** Interval of pings; a client that has not answered the previous one is closed. */
  pingMs: number;
  /** A page of another origin must not read the feed: refused before the handshake. */
  origins: OriginPolicy;
}

const framed = encodedOnce((batch) => textFrames(batch.map(({ data }) => data)));
/**
 * Most bytes of changes in one `batch=1` frame: large enough that a frame's own cost (an event and
 * a JSON.parse call in the client) is spread over ~100 blobs of ~1 KB, small enough that the
 * client's first change of a frame is not held for long.
 */
const MAX_FRAME_BYTES = 128 * 1024;
const framedInChanges = encodedOnce((batch) =>
  changesFrames(
    batch.map(({ data }) => data),
    MAX_FRAME_BYTES,
  ),
);

class WebSocketSink implements FeedSink {
  readonly transport = 'ws';
  /** Changes sent while corked, framed together on uncork (or once a frame's worth has gathered). */
  private gathered: Buffer[] | undefined;
  private gatheredBytes = 0;

  /** `socket` is the one the upgrade came on, which the WebSocket now writes to; `batched`: the subscriber asked for `batch=1`. */
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly batched: boolean,
  ) {}

  get closed(): boolean {
    return this.ws.readyState !== WebSocket.OPEN;
  }

  cork(): void {
    this.socket.cork();
    this.gathered ??= [];
  }

  uncork(): void {
    this.flush();
    this.gathered = undefined;
    this.socket.uncork();
  }

  send(data: Buffer): void {
    if (this.gathered === undefined) {
      this.ws.send(data, { binary: false });
      return;
    }
    this.gathered.push(data);
    this.gatheredBytes += data.length;
    if (this.gatheredBytes >= MAX_FRAME_BYTES) this.flush();
  }

  /**
   * Frames written straight to the socket, behind `ws`: it writes its own frames (pings, close)
   * to the same socket at once, in order, as long as it compresses nothing, which the server
   * never agrees to (perMessageDeflate: false).
   */
  sendBatch(batch: SharedBatch): void {
    this.flush();
    this.socket.write(this.batched ? framedInChanges(batch) : framed(batch));
  }

  live(seq: string | null): void {
    this.flush();
    const message: LiveMessage = { type: 'live', seq };
    this.ws.send(JSON.stringify(message));
  }

  queuedBytes(): number {
    return this.ws.bufferedAmount + this.gatheredBytes;
  }

  end(reason: EndReason, message: string): void {
    this.gathered = undefined; // nothing after the close frame
    this.gatheredBytes = 0;
    this.ws.close(FeedCloseCode[reason], message);
  }

  /** The gathered changes as frames (one per change, or `changes` messages for `batch=1`), written in one go. */
  private flush(): void {
    const gathered = this.gathered;
    if (gathered === undefined || gathered.length === 0) return;
    this.gathered = [];
    this.gatheredBytes = 0;
    if (this.closed) return;
    this.socket.write(this.batched ? changesFrames(gathered, MAX_FRAME_BYTES) : textFrames(gathered));
  }
}

/** Upgrade answered with an HTTP error: for paths that are not the feed, and hosts or origins that may not use it. */
function refuse(socket: Duplex, status: number, body: object): void {
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

/**
 * The change feed over WebSocket at `/wsapi/changes?since=<seq>|now[&token=]`. Problems after the
 * handshake (wrong token, bad `since`, too slow) are close codes, which browsers can read, unlike
 * the status of a refused upgrade.
 */
export function attachWebSocketRelay(server: Server, { hub, metrics, logger, readToken, pingMs, origins }: WebSocketRelayOptions): { close(): Promise<void> } {
  // No compression: WebSocketSink.sendBatch writes whole frames of its own (and deflating 100 copies would cost more than it saves).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const alive = new WeakSet<WebSocket>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== Routes.changes) {
      refuse(socket, 404, { error: 'not_found', reason: `no WebSocket at ${url.pathname}; the change feed is ${Routes.changes}` });
      return;
    }
    const refused = origins.refusal(req.headers);
    if (refused) {
      refuse(socket, refused.status, refused.body);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket, req, url));
  };

  const onConnection = (ws: WebSocket, socket: Duplex, req: IncomingMessage, url: URL) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', (error) => logger.debug({ err: error }, 'change feed: WebSocket error'));
    const query = FeedQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (readToken !== undefined && !tokenMatches(readToken, givenToken(req.headers, url.searchParams.get('token') ?? undefined))) {
      ws.close(FeedCloseCode.unauthorized, 'unauthorized: send the read token as Bearer or ?token=');
      return;
    }
    if (!query.success) {
      ws.close(FeedCloseCode.invalid_since, `invalid query: ${query.error.issues[0]?.message ?? ''}`.slice(0, 120));
      return;
    }
    const subscription = hub.subscribe(new WebSocketSink(ws, socket, query.data.batch), query.data.since);
    ws.on('close', () => subscription.end('closed'));
  };

  // A peer that vanished without closing (a pulled cable, a frozen tab) does not answer pings.
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        metrics.feedDropped.inc({ transport: 'ws', reason: 'dead' });
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, pingMs);
  pinger.unref();

  server.on('upgrade', onUpgrade);
  return {
    /** Gives clients a second to receive their close frames (sent by the hub), then cuts the rest. */
    async close() {
      clearInterval(pinger);
      server.off('upgrade', onUpgrade);
      const deadline = Date.now() + 1000;
      while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
