import express, { type RequestHandler, type Response, type Router } from 'express';
import { ChangesQuerySchema } from 'kpiggybank-client/wire';
import type { ChangeHub } from '../feed/change-hub.js';
import { encodedOnce, type SharedBatch } from '../feed/shared-batch.js';
import type { EndReason, FeedSink } from '../feed/sink.js';
import { InvalidSeqError } from '../store/store.js';
import { keepOpenWhileSlow } from './connection-guard.js';
import { HttpError } from './http-error.js';
import { parseQuery } from './query.js';

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
class ResponseSink implements FeedSink {
  readonly transport = 'stream';

  constructor(private readonly res: Response) {}

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

/** `GET /wsapi/interaction_data/stream[?since=]`: the change hub as a never-ending HTTP response. */
export function streamRouter(hub: ChangeHub, readAccess: RequestHandler): Router {
  const router = express.Router();
  router.get('/wsapi/interaction_data/stream', readAccess, async (req, res) => {
    const { since } = parseQuery(ChangesQuerySchema, req.query);
    try {
      await hub.checkSince(since);
    } catch (error) {
      if (error instanceof InvalidSeqError) throw new HttpError(400, 'invalid_query', `since: ${error.message}`);
      throw error;
    }
    if (res.destroyed) return; // the client left during the check
    keepOpenWhileSlow(res); // idle for hours is its purpose; FEED_QUEUE_BYTES bounds a slow reader
    res.status(200).type('application/json').setHeader('Cache-Control', 'no-store');
    res.flushHeaders();
    const subscription = hub.subscribe(new ResponseSink(res), since);
    res.on('close', () => subscription.end('closed'));
  });
  return router;
}
