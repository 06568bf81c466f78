import type { z } from 'zod';
import { ChangeFeed, type ChangeFeedOptions } from './change-feed.js';
import { KpiggybankResponseError } from './errors.js';
import { lines } from './ndjson.js';
import { drainRoutes, Routes } from './portable/routes.js';
import { Transport, type CallOptions, type ClientOptions } from './transport.js';
import { StoredBlobSchema, type KpiBlob, type StoredBlob } from './wire/blob.js';
import { DrainCommitResponseSchema, DrainReleaseResponseSchema, DrainSchema, type Drain, type DrainReadQuerySchema } from './wire/drain.js';
import { type EventSchema, EventSchemaSchema } from './wire/event-schema.js';
import type { RangeQuery } from './wire/query.js';
import { CountResponseSchema, GetResponseSchema, IngestResponseSchema, RangeResponseSchema, RowsResponseSchema, type IngestResponse, type ViewRow } from './wire/responses.js';

/**
 * A range: `start ≤ timestamp ≤ end`, both optional; `limit` caps the whole range. The wire's
 * range query without its `shape` (each method picks that).
 */
export type RangeOptions = Omit<RangeQuery, 'shape'>;

export interface IterateOptions extends Omit<RangeOptions, 'limit'> {
  /** Blobs asked for per request; default 1,000. */
  pageSize?: number | undefined;
}

/** How a drain's blobs are streamed (`format` ndjson or csv; CSV `formulas` escape or raw): the wire's query. */
export type DrainStreamOptions = z.input<typeof DrainReadQuerySchema>;

/**
 * The typed client of a kpiggybank service: every answer is checked against the wire schemas the
 * server itself uses. Failures reject with a KpiggybankError (HTTP, network or response).
 */
export class KpiggybankClient {
  private readonly http: Transport;

  constructor(options: ClientOptions | string) {
    this.http = new Transport(typeof options === 'string' ? { baseUrl: options } : options);
  }

  /**
   * Stores one blob or a batch; resolves once the service has stored them all. Retried on failure
   * only when every blob carries an `_id` (a repeat is then harmless: stored ids come back in `existing`).
   */
  save(blobs: KpiBlob | readonly KpiBlob[]): Promise<IngestResponse> {
    const idempotent = Array.isArray(blobs) ? blobs.every((blob) => blob._id !== undefined) : (blobs as KpiBlob)._id !== undefined;
    return this.http.json({ method: 'POST', path: Routes.blobs, body: blobs, idempotent }, IngestResponseSchema);
  }

  /** The blob with this id, or `undefined`. */
  async get(id: string): Promise<StoredBlob | undefined> {
    try {
      return (await this.http.json({ method: 'GET', path: Routes.blobs, query: { id }, idempotent: true }, GetResponseSchema)).results;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** A range in one array; for ranges too large to hold, `iterate()`. */
  range(options: RangeOptions = {}): Promise<StoredBlob[]> {
    return this.http.json({ method: 'GET', path: Routes.blobs, query: { ...options, shape: 'blobs' }, idempotent: true }, RangeResponseSchema);
  }

  /** A range as the original's CouchDB view rows, `{key, id, value}` (what its clients read): the service's default shape. */
  rows(options: RangeOptions = {}): Promise<ViewRow[]> {
    return this.http.json({ method: 'GET', path: Routes.blobs, query: { ...options, shape: 'rows' }, idempotent: true }, RowsResponseSchema);
  }

  /**
   * Every blob of a range, one page at a time, never holding more than a page. Pages follow each
   * other by timestamp; blobs sharing the timestamp at a page's edge are told apart by id.
   */
  async *iterate(options: IterateOptions = {}): AsyncGenerator<StoredBlob> {
    const { pageSize = 1000, descending = false } = options;
    let { start, end } = options;
    let edge: number | undefined; // timestamp of the last page's last blob
    let seenAtEdge = new Set<string>(); // ids already yielded with that timestamp
    for (;;) {
      const limit = pageSize + seenAtEdge.size;
      const page = await this.range({ start, end, limit, descending });
      let fresh = 0;
      for (const blob of page) {
        if (blob.timestamp === edge && seenAtEdge.has(blob._id)) continue;
        if (blob.timestamp !== edge) seenAtEdge = new Set();
        edge = blob.timestamp;
        seenAtEdge.add(blob._id);
        fresh++;
        yield blob;
      }
      if (page.length < limit || fresh === 0) return;
      if (descending) end = edge;
      else start = edge;
    }
  }

  /**
   * A range as the service sends it, a JSON array of blobs (`shape=blobs`), as a stream of bytes:
   * for passing a range of any size on (to a file, to stdout) without holding or parsing it.
   */
  async rangeStream(options: RangeOptions & CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const { signal, ...range } = options;
    const res = await this.http.send({ method: 'GET', path: Routes.blobs, query: { ...range, shape: 'blobs' }, idempotent: true, signal });
    return res.stream();
  }

  count({ signal }: CallOptions = {}): Promise<number> {
    return this.http.json({ method: 'GET', path: Routes.count, idempotent: true, signal }, CountResponseSchema);
  }

  /** The blob with the greatest timestamp, or `undefined` when the store is empty. */
  async last(): Promise<StoredBlob | undefined> {
    try {
      return await this.http.json({ method: 'GET', path: Routes.last, query: { shape: 'blobs' }, idempotent: true }, StoredBlobSchema);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The service's declared event schema (its SCHEMA_FILE, defaults filled in); undefined when it has none. */
  async schema(): Promise<EventSchema | undefined> {
    try {
      return await this.http.json({ method: 'GET', path: Routes.schema, idempotent: true }, EventSchemaSchema);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Resolves when the service answers. */
  async ping(): Promise<void> {
    const res = await this.http.send({ method: 'GET', path: Routes.ping, idempotent: true });
    await res.text();
  }

  /** The live change feed, resumable: `for await (const change of client.changes({since}))`. */
  changes(options: ChangeFeedOptions = {}): ChangeFeed {
    const ws = new URL(`${this.http.baseUrl}${Routes.changes}`);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    return new ChangeFeed(ws.toString(), this.http.token, options);
  }

  /** Claims the blobs of a range (all, by default) for a new drain; needs the drain token. Not retried: a repeat would claim again. */
  startDrain(range: Pick<RangeOptions, 'start' | 'end'> = {}, { signal }: CallOptions = {}): Promise<Drain> {
    return this.http.json({ method: 'POST', path: Routes.drains, query: { ...range }, idempotent: false, signal }, DrainSchema);
  }

  /** The drain, while it can still be read and committed. */
  drainInfo(id: string, { signal }: CallOptions = {}): Promise<Drain> {
    return this.http.json({ method: 'GET', path: drainRoutes(id).status, idempotent: true, signal }, DrainSchema);
  }

  /** The drain's blobs, streamed (NDJSON read line by line). */
  async *drainBlobs(id: string, { signal }: CallOptions = {}): AsyncGenerator<StoredBlob> {
    const path = drainRoutes(id).blobs;
    for await (const line of lines(await this.drainStream(id, { format: 'ndjson', signal }))) {
      const blob = StoredBlobSchema.safeParse(JSON.parse(line));
      if (!blob.success) throw new KpiggybankResponseError('GET', this.http.url(path), `a drained line is not a blob: ${line.slice(0, 100)}`);
      yield blob.data;
    }
  }

  /** The drain's blobs as CSV text, a stream of bytes, for writing to a file as it comes. */
  drainCsv(id: string): Promise<ReadableStream<Uint8Array>> {
    return this.drainStream(id, { format: 'csv' });
  }

  /**
   * The drain's blobs as the service sends them, a stream of bytes: NDJSON (the default), or CSV
   * (with `formulas: 'raw'`, cells that look like formulas are not escaped).
   */
  async drainStream(id: string, options: DrainStreamOptions & CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const { signal, ...query } = options;
    const res = await this.http.send({ method: 'GET', path: drainRoutes(id).blobs, query, idempotent: true, signal });
    return res.stream();
  }

  /**
   * Deletes the drain's blobs. Not retried: when its answer is lost, `drainInfo(id)` answering 409
   * `drain_committed` says the commit went through (and 200 that it did not).
   */
  async commitDrain(id: string, { signal }: CallOptions = {}): Promise<{ removed: number }> {
    const { removed } = await this.http.json({ method: 'POST', path: drainRoutes(id).commit, idempotent: false, signal }, DrainCommitResponseSchema);
    return { removed };
  }

  /**
   * Lets the drain's blobs go, deleting none: another drain may claim them at once, rather than
   * when the lease ends. Not retried: a repeat of a release that went through answers an error.
   */
  async releaseDrain(id: string, { signal }: CallOptions = {}): Promise<{ released: number }> {
    const { released } = await this.http.json({ method: 'POST', path: drainRoutes(id).release, idempotent: false, signal }, DrainReleaseResponseSchema);
    return { released };
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'status' in error && error.status === 404;
}
