import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from 'kpiggybank-client/wire';
import { RETRY_AFTER_SECONDS } from './errors.js';
import { BodyBudget } from './body-budget.js';
import { RESPONSE_HEADERS } from './response-headers.js';

interface ConnectionGuardOptions {
  /**
   * Connections open at once. One beyond has its first request answered 503 `overloaded` and is
   * closed; one beyond a sixteenth more (at least 16: `hardConnectionLimit`) is closed by Node at
   * once, unread and unanswered.
   */
  maxConnections: number;
  /** How long a client may take to send a request's headers (from connecting, or from the answer before), and then its body. */
  bodyTimeoutMs: number;
  /** A response whose bytes the client has not taken for this long is cut. */
  responseIdleTimeoutMs: number;
  /** Bytes that request bodies in flight may hold together (see BodyBudget); beyond, 503 overloaded. */
  maxInflightBodyBytes: number;
  /** MAX_BODY_BYTES: what a body without a Content-Length is counted at. */
  maxBodyBytes: number;
  /** Told of every connection or request the guard refuses or cuts. */
  onRefused?: (reason: RefusedReason) => void;
}

export type RefusedReason = 'too_many_connections' | 'overloaded' | 'body_timeout' | 'headers_timeout' | 'response_stalled';

export interface ConnectionGuard {
  /** Bytes of request bodies counted in flight now. */
  readonly inFlightBodyBytes: number;
  close(): void;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** One request and its answer, from when its handling started. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  startedAt: number;
  /** Bytes taken from the body budget. */
  reserved: number;
  /** Bytes the kernel had taken from the socket at the last sweep, and since when that has not moved while more waited. */
  sent: number;
  stalledSince: number;
}

interface Connection {
  socket: Socket;
  /** The request being handled; the next ones wait in `queue` (pipelining). */
  current: Exchange | undefined;
  queue: Exchange[] | undefined;
  /** Whether the guard stopped reading from the socket because `queue` is full. */
  paused: boolean;
  /** Opened over `maxConnections`: its first request is answered 503 and the connection closed. */
  over: boolean;
  /** When the connection last had no request in hand: opened, or its last answer went out. */
  idleSince: number;
}

/** Responses that are meant to stay open while idle, and bound their slow readers themselves (the legacy change stream). */
const longLived = new WeakSet<ServerResponse>();

/** Exempts `res` from the response idle timeout: it stays open while idle, and bounds its slow reader itself (FEED_QUEUE_BYTES). */
export function keepOpenWhileSlow(res: ServerResponse): void {
  longLived.add(res);
}

/**
 * Where Node closes connections without a word: a little above the cap, so that a client just
 * over it is told 503 with Retry-After (Node 20's fetch, its connection closed unanswered, waits
 * for its own timeout instead of failing), while a flood cannot take every file descriptor.
 */
function hardConnectionLimit(maxConnections: number): number {
  return maxConnections + Math.max(16, Math.floor(maxConnections / 16));
}

/**
 * Requests waiting behind the one in hand on one connection before the guard stops reading more
 * from it (Node parses pipelined requests as they come, and pauses only for unread answers).
 */
const MAX_QUEUED = 64;

function answer(res: ServerResponse, status: number, body: ErrorBody, headers: Record<string, string>): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { ...RESPONSE_HEADERS, ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/**
 * Bounds what clients can hold on the server, and answers pipelined requests in order:
 *
 * - **Connections**: one beyond `maxConnections` is answered 503 and closed; one beyond
 *   `hardConnectionLimit` (Node's `server.maxConnections`) is closed at once, so the store keeps
 *   its file descriptors whatever the flood.
 * - **Slow requests**: headers must arrive within `bodyTimeoutMs` of connecting (or of the answer
 *   before, on a kept-alive connection), else the connection is closed; a body within
 *   `bodyTimeoutMs` of its headers, else 408 `body_timeout` and the connection is closed. (Node's
 *   own requestTimeout is 300 s, checked every 30 s: 400 unfinished 1 MiB bodies held 525 MB for 322 s.)
 * - **Bodies in flight**: their bytes together are bounded (BodyBudget); a request beyond gets
 *   503 `overloaded` with Retry-After, and its body is read and dropped by Node.
 * - **Slow readers**: a response whose queued bytes have not moved for `responseIdleTimeoutMs` is
 *   cut (200 readers of a big range at 1 byte/s swung RSS to 970 MB). A response with nothing to
 *   write is not stalled: a drain working out its CSV header, a store read. The legacy change
 *   stream is exempt (keepOpenWhileSlow); WebSocket connections leave HTTP at their upgrade.
 * - **Pipelining**: a connection's next request is handled once the answer before it has gone,
 *   so it sees what the requests before it did (a GET behind 5 POSTs found none of them).
 *
 * Timeouts are checked by one sweep over the connections, a quarter of the shorter timeout apart
 * (at most 1 s), not by a timer per request: the keep-alive path pays a map lookup and a listener.
 */
export function guardConnections(server: Server, options: ConnectionGuardOptions): ConnectionGuard {
  const { bodyTimeoutMs, responseIdleTimeoutMs, onRefused = () => {} } = options;
  const budget = new BodyBudget(options.maxInflightBodyBytes, options.maxBodyBytes);
  const connections = new Map<Socket, Connection>();

  server.maxConnections = hardConnectionLimit(options.maxConnections);
  server.on('drop', () => onRefused('too_many_connections'));

  let open = 0; // every connection, upgraded ones too (they hold a descriptor as well)
  server.on('connection', (socket: Socket) => {
    open++;
    connections.set(socket, { socket, current: undefined, queue: undefined, paused: false, over: open > options.maxConnections, idleSince: Date.now() });
    socket.once('close', () => {
      open--;
      connections.delete(socket);
    });
  });

  // An upgraded socket (the WebSocket feed) is no longer HTTP: its own pings and queue bound keep it.
  server.prependListener('upgrade', (_req: IncomingMessage, socket: Socket) => {
    connections.delete(socket);
    if (server.listenerCount('upgrade') === 1) socket.destroy(); // nobody takes upgrades: as Node does without a listener
  });

  // The app's handlers run through `start`, one request per connection at a time.
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const run = ({ req, res }: Exchange) => {
    for (const handler of handlers) handler.call(server, req, res);
  };

  const start = (connection: Connection, exchange: Exchange) => {
    connection.current = exchange;
    exchange.startedAt = Date.now();
    exchange.res.once('close', () => finished(connection, exchange));
    if (connection.over) {
      onRefused('too_many_connections');
      answer(exchange.res, 503, { error: 'overloaded', reason: 'too many connections are open; retry later' }, { 'Retry-After': String(RETRY_AFTER_SECONDS), Connection: 'close' });
      return;
    }
    const bytes = budget.sizeOf(exchange.req);
    if (!budget.take(bytes)) {
      onRefused('overloaded');
      answer(
        exchange.res,
        503,
        { error: 'overloaded', reason: 'too many request bodies are in flight; nothing was stored, retry later' },
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
      return;
    }
    exchange.reserved = bytes;
    run(exchange);
  };

  const finished = (connection: Connection, exchange: Exchange) => {
    budget.give(exchange.reserved);
    exchange.reserved = 0;
    if (connection.current !== exchange) return;
    connection.current = undefined;
    connection.idleSince = Date.now();
    const next = connection.queue?.shift();
    if (next === undefined) return;
    if (connection.paused && connection.queue!.length < MAX_QUEUED / 2) {
      connection.paused = false;
      connection.socket.resume();
    }
    if (connection.socket.destroyed) connection.queue = undefined;
    else start(connection, next);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const exchange: Exchange = { req, res, startedAt: 0, reserved: 0, sent: 0, stalledSince: 0 };
    const connection = connections.get(req.socket as Socket);
    if (connection === undefined)
      run(exchange); // a connection from before the guard
    else if (connection.current === undefined) start(connection, exchange);
    else {
      connection.queue ??= [];
      if (connection.queue.push(exchange) >= MAX_QUEUED) {
        // (a request body being read resumes the socket: the next request parsed pauses it again)
        connection.paused = true;
        connection.socket.pause();
      }
    }
  });

  /** The body has not come in time: say so while the answer can still be sent, then close. */
  const bodyLate = (connection: Connection, exchange: Exchange) => {
    const { res } = exchange;
    if (res.headersSent) {
      // answered already (the 408 of the last sweep, or a handler's): the client has had its chance to read it
      connection.socket.destroy();
      return;
    }
    onRefused('body_timeout');
    answer(res, 408, { error: 'body_timeout', reason: `the request body did not arrive within ${bodyTimeoutMs} ms` }, { Connection: 'close' });
  };

  const sweep = (now: number) => {
    for (const connection of connections.values()) {
      const { current, socket } = connection;
      if (current === undefined) {
        if (now - connection.idleSince > bodyTimeoutMs) {
          onRefused('headers_timeout');
          socket.destroy();
        }
      } else if (!current.req.complete) {
        if (now - current.startedAt > bodyTimeoutMs) bodyLate(connection, current);
      } else if (!longLived.has(current.res)) {
        // writableLength: bytes written and not yet taken by the kernel. What it took (all written
        // less those) moves as the client reads; writableLength alone may not: pages of equal size.
        const waiting = socket.writableLength;
        const sent = socket.bytesWritten - waiting;
        if (waiting === 0) {
          current.stalledSince = 0;
        } else if (sent !== current.sent || current.stalledSince === 0) {
          current.sent = sent;
          current.stalledSince = now;
        } else if (now - current.stalledSince > responseIdleTimeoutMs) {
          onRefused('response_stalled');
          socket.destroy();
        }
      }
    }
  };
  const sweeper = setInterval(() => sweep(Date.now()), Math.max(10, Math.min(1000, Math.min(bodyTimeoutMs, responseIdleTimeoutMs) / 4)));
  sweeper.unref();

  return {
    get inFlightBodyBytes() {
      return budget.inFlight;
    },
    close() {
      clearInterval(sweeper);
    },
  };
}
