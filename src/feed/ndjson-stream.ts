import type { ServerResponse } from 'node:http';
import type { ChangeHub } from './change-hub.js';
import { encodedOnce, type SharedBatch } from './shared-batch.js';
import type { EndReason, FeedSink } from './sink.js';

const CRLF = Buffer.from('\r\n');

/** A batch as lines: each change followed by `\r\n`. */
const lines = encodedOnce((batch) => {
  let size = 0;
  for (const { data } of batch) size += data.length + CRLF.length;
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  for (const { data } of batch) {
    at += data.copy(bytes, at);
    at += CRLF.copy(bytes, at);
  }
  return bytes;
});

/** The legacy stream: one change JSON per line, `\r\n` after each, as the seed's client parses it. */
class NdjsonSink implements FeedSink {
  readonly transport = 'stream';

  constructor(private readonly res: ServerResponse) {}

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  send(data: Buffer): void {
    this.res.write(data);
    this.res.write(CRLF);
  }

  sendBatch(batch: SharedBatch): void {
    this.res.write(lines(batch));
  }

  live(): void {} // the seed's parser expects changes only

  cork(): void {
    this.res.cork();
  }

  uncork(): void {
    this.res.uncork();
  }

  queuedBytes(): number {
    return this.res.writableLength;
  }

  end(reason: EndReason): void {
    // A slow reader cannot be told in-band: cut it; it resumes with since=<last seq it read>.
    if (reason === 'too_slow') this.res.destroy();
    else this.res.end();
  }
}

/**
 * The legacy change stream's transport: the hub's changes after `since` written to `res` (whose
 * headers the HTTP route has sent) as lines, until the client leaves or the hub ends it.
 * The route (src/http/stream.ts) checks the token and `since`; this is the feed's part.
 */
export function streamChanges(hub: ChangeHub, res: ServerResponse, since: string): void {
  const subscription = hub.subscribe(new NdjsonSink(res), since);
  res.on('close', () => subscription.end('closed'));
}
