import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Routes } from 'kpiggybank-client/wire';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A client on a bare TCP socket, for what HTTP clients will not do: pipeline, send half a body,
 * stop reading. `responses` parses answers as they arrive (Content-Length bodies only).
 */
export class RawClient {
  readonly responses: RawResponse[] = [];
  /** Bytes received and not yet parsed into a response, one character a byte (latin1). */
  private pending = '';
  received = 0;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      this.pending += chunk.toString('latin1');
      this.parse();
    });
    socket.on('error', () => undefined); // a refused or reset connection shows as `closed`
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async connect(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Resolves once `count` responses arrived (or rejects after `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 5000): Promise<RawResponse[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.responses.length} of ${count} responses after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.responses;
  }

  /** Resolves true once the connection is closed, false if it is still open after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = this.pending.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (this.pending.length < end + 4 + length) return;
      const body = Buffer.from(this.pending.slice(end + 4, end + 4 + length), 'latin1').toString('utf8');
      this.pending = this.pending.slice(end + 4 + length);
      this.responses.push({ status: Number(statusLine!.split(' ')[1]), headers, body });
    }
  }
}

/** One request's text: the request line, headers (Host and Content-Length added) and body. */
export function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const all: Record<string, string> = { Host: '127.0.0.1', ...headers };
  if ((body !== '' || method === 'POST') && all['Transfer-Encoding'] === undefined) all['Content-Length'] ??= String(Buffer.byteLength(body));
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n${body}`;
}

/** A POST on a connection of its own (closed after): a kept-alive one might be cut by a short test timeout. */
export function postOnce(url: string, blobs: object): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(blobs);
    const req = request(
      `${url}${Routes.blobs}`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
