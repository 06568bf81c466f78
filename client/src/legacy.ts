// The seed's JS API (`new API(host, port)`), kept for code written against it; Node only.
import { EventEmitter } from 'node:events';
import type { ChangeFeed } from './change-feed.js';
import { KpiggybankClient, type RangeOptions } from './client.js';
import type { KpiBlob, StoredBlob } from './wire/blob.js';
import type { ViewRow } from './wire/responses.js';

export type Callback<T> = (error: Error | null, result?: T) => void;

/**
 * `saveData`, `fetchRange`, `count` with Node-style callbacks, answering what the original's
 * `lib/api.js` did (`true` for a stored blob, the view rows `{key, id, value}` of a range, a
 * number), and `followChanges()`, after which each newly stored blob is emitted as `change` (and
 * each removed one as `delete`, with its id). `error` is emitted when the feed cannot go on, and
 * for a failed call given no callback (if anyone listens). An error is an Error carrying the
 * answer's `status` (the original passed the bare status code).
 */
export class KPIggyBank extends EventEmitter<{ change: [StoredBlob]; delete: [string]; error: [Error] }> {
  readonly client: KpiggybankClient;
  private feed: ChangeFeed | undefined;

  constructor(host = '127.0.0.1', port: number | string = 3000, options: { token?: string; https?: boolean } = {}) {
    super();
    this.client = new KpiggybankClient({ baseUrl: `${options.https ? 'https' : 'http'}://${host}:${port}`, token: options.token });
  }

  saveData(blob: KpiBlob | KpiBlob[], callback?: Callback<true>): void {
    this.settle(
      this.client.save(blob).then(() => true as const),
      callback,
    );
  }

  fetchRange(options: Pick<RangeOptions, 'start' | 'end'> | Callback<ViewRow[]>, callback?: Callback<ViewRow[]>): void {
    if (typeof options === 'function') return this.fetchRange({}, options);
    this.settle(this.client.rows({ start: options.start, end: options.end }), callback);
  }

  count(callback: Callback<number>): void {
    this.settle(this.client.count(), callback);
  }

  /** Subscribes to the change feed from now on; once only. */
  followChanges(): this {
    if (this.feed) return this;
    const feed = this.client.changes();
    this.feed = feed;
    void (async () => {
      try {
        for await (const change of feed) {
          if (change.deleted) this.emit('delete', change.id);
          else this.emit('change', change.doc as StoredBlob);
        }
      } catch (error) {
        this.emit('error', error as Error);
      }
    })();
    return this;
  }

  /** Ends the subscription (the process can then exit). */
  stopFollowing(): void {
    this.feed?.close();
    this.feed = undefined;
  }

  private settle<T>(promise: Promise<T>, callback: Callback<T> | undefined): void {
    promise.then(
      (result) => callback?.(null, result),
      (error: Error) => {
        if (callback) callback(error);
        else if (this.listenerCount('error') > 0) this.emit('error', error);
      },
    );
  }
}

/** The seed's name for it: `var API = require("lib/api"); new API(host, port)`. */
export { KPIggyBank as API };
export default KPIggyBank;
