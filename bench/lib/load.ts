import { connect, type Socket } from 'node:net';
import { percentile } from '../../src/loadtest/percentiles.js';
import { TIMESTAMP_MARK } from './blobs.js';

export interface LoadOptions {
  port: number;
  path: string;
  contentType: string;
  /**
   * Bodies sent in turn; prepared once, so the generator spends its CPU on sockets, not JSON.
   * Every TIMESTAMP_MARK in them is overwritten with the current unix time at each send.
   */
  bodies: readonly string[];
  connections: number;
  seconds: number;
  /** Extra request headers, e.g. Authorization. */
  headers?: Record<string, string>;
}

export interface LoadResult {
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  /** Answers other than 201. */
  errors: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
}

const HEADER_END = Buffer.from('\r\n\r\n');

// @types/node 20 Buffers do not type-check as Uint8Array under this TypeScript: say what they are.
const bytes = (buffer: Buffer) => buffer as unknown as Uint8Array;

const MARK = Buffer.from(String(TIMESTAMP_MARK));

/** A prepared request and where its timestamps go. */
interface Prepared {
  bytes: Buffer;
  marks: number[];
}

function prepare(request: Buffer): Prepared {
  const marks: number[] = [];
  for (let at = request.indexOf(MARK); at >= 0; at = request.indexOf(MARK, at + MARK.length)) marks.push(at);
  return { bytes: request, marks };
}

/** The request with the current unix time (10 digits, as long as the mark) written over each mark. */
function stamped({ bytes, marks }: Prepared): Buffer {
  if (marks.length === 0) return bytes;
  const now = Buffer.from(String(Math.floor(Date.now() / 1000)));
  for (const at of marks) now.copy(bytes as unknown as Uint8Array, at);
  return bytes;
}

/** Where the answer at the start of `buffer` ends, or -1 while it is incomplete (Content-Length or chunked). */
function answerEnd(buffer: Buffer): { end: number; status: number } | undefined {
  const headerEnd = buffer.indexOf(HEADER_END);
  if (headerEnd < 0) return undefined;
  const head = buffer.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) {
    const end = headerEnd + 4 + Number(length[1]);
    return buffer.length >= end ? { end, status } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = buffer.indexOf('\r\n0\r\n\r\n', headerEnd + 2);
    return last < 0 ? undefined : { end: last + 7, status };
  }
  return { end: headerEnd + 4, status };
}

/**
 * A closed-loop HTTP/1.1 load generator on raw keep-alive sockets: each connection sends a POST,
 * waits for the whole answer, sends the next. Lighter than an HTTP client library, so that on a
 * 2-core machine it leaves the server its core.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const extra = Object.entries(options.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const requests = options.bodies.map((body) =>
    Buffer.from(
      `POST ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nContent-Type: ${options.contentType}\r\n` +
        `${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  );
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let done = 0;
  let errors = 0;
  let next = 0;
  let stopping = false;
  const started = performance.now();

  const run = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      // Each connection stamps its own copies: a buffer is not rewritten while a socket may still hold it.
      const own = requests.map((request) => prepare(Buffer.from(bytes(request))));
      let pending = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (stopping) {
          socket.end();
          resolve();
          return;
        }
        sentAt = performance.now();
        socket.write(bytes(stamped(own[next++ % own.length]!)));
      };
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([bytes(pending), bytes(chunk)]);
        const answer = answerEnd(pending);
        if (!answer) return;
        latencies.push(performance.now() - sentAt);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status !== 201) errors++;
        done++;
        pending = pending.subarray(answer.end);
        send();
      });
      socket.on('error', reject);
      socket.on('close', () => (stopping ? resolve() : reject(new Error('the server closed a connection'))));
      send();
    });

  const sockets = await Promise.all(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(options.port, '127.0.0.1', () => resolve(socket));
          socket.setNoDelay(true);
          socket.once('error', reject);
        }),
    ),
  );
  const timer = setTimeout(() => (stopping = true), options.seconds * 1000);
  try {
    await Promise.all(sockets.map(run));
  } finally {
    clearTimeout(timer);
    for (const socket of sockets) socket.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Number(percentile(latencies, p * 100).toFixed(2));
  return {
    seconds: Number(seconds.toFixed(2)),
    requests: done,
    requestsPerSecond: Math.round(done / seconds),
    errors,
    statuses,
    latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
  };
}
