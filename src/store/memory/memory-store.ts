import { ChangeSignal } from '../change-signal.js';
import { newBlobId, withIds } from '../ids.js';
import { MemoryClaimBook } from '../memory-claim-book.js';
import {
  InvalidSeqError,
  type Change,
  type ChangesBatch,
  type ChangesOptions,
  type KpiBlob,
  type RangeCursor,
  type RangeQuery,
  type SaveResult,
  type Store,
  type StoredBlob,
} from '../store.js';

/** Orders like the CouchDB view's [timestamp, _id] keys (ids compared by code unit, not ICU). */
function compare(a: RangeCursor, b: RangeCursor): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Nothing persists: for experiments and tests. */
export class MemoryStore implements Store {
  readonly backend = 'memory';
  /** Its log keeps every change with its blob, for ever. */
  readonly keepsRemovedWrites = true;
  readonly claims = new MemoryClaimBook();
  private readonly byId = new Map<string, StoredBlob>();
  /** Keys in range order; blobs usually arrive in time order, so inserts are mostly appends. */
  private readonly keys: RangeCursor[] = [];
  /** Every change in order; a change's seq is its position + 1. It holds the blobs the map holds. */
  private readonly log: Change[] = [];
  private readonly signal = new ChangeSignal();

  async open(): Promise<void> {}

  async save(blobs: readonly KpiBlob[]): Promise<SaveResult> {
    const existing: string[] = [];
    const docs = withIds(blobs);
    for (let [i, doc] of docs.entries()) {
      if (this.byId.has(doc._id)) {
        if (blobs[i]!._id !== undefined) {
          existing.push(doc._id);
          continue;
        }
        // a generated id someone chose first (it cannot be guessed, but costs nothing to check here)
        while (this.byId.has(doc._id)) doc = { ...doc, _id: newBlobId() };
        docs[i] = doc;
      }
      this.byId.set(doc._id, doc);
      const key = { timestamp: doc.timestamp, id: doc._id };
      const at = this.firstAfter(key, true);
      if (at === this.keys.length) this.keys.push(key);
      else this.keys.splice(at, 0, key);
      this.log.push({ seq: String(this.log.length + 1), id: doc._id, rev: '1', deleted: false, doc });
    }
    this.signal.notify();
    return { ids: docs.map((d) => d._id), existing };
  }

  async get(id: string): Promise<StoredBlob | undefined> {
    return this.byId.get(id);
  }

  async page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    const lowest = query.start === undefined ? 0 : this.firstAfter({ timestamp: query.start, id: '' }, false);
    const beyond = query.end === undefined ? this.keys.length : this.firstAfter({ timestamp: query.end + 1, id: '' }, false);
    const keys: RangeCursor[] = [];
    if (query.descending) {
      const from = after ? Math.min(beyond, this.firstAfter(after, false)) : beyond;
      for (let i = from - 1; i >= lowest && keys.length < size; i--) keys.push(this.keys[i]!);
    } else {
      const from = after ? Math.max(lowest, this.firstAfter(after, true)) : lowest;
      for (let i = from; i < beyond && keys.length < size; i++) keys.push(this.keys[i]!);
    }
    return keys.map((k) => this.byId.get(k.id)!);
  }

  async count(): Promise<number> {
    return this.byId.size;
  }

  async remove(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of ids) {
      const doc = this.byId.get(id);
      if (!doc) continue;
      this.byId.delete(id);
      this.keys.splice(this.firstAfter({ timestamp: doc.timestamp, id }, false), 1);
      this.log.push({ seq: String(this.log.length + 1), id, rev: '2', deleted: true });
      removed++;
    }
    this.signal.notify();
    return removed;
  }

  async changes(since: string, { limit, waitMs }: ChangesOptions): Promise<ChangesBatch> {
    const from = Number(since);
    if (!/^\d+$/.test(since) || from > this.log.length) throw new InvalidSeqError(`the memory store has no sequence ${JSON.stringify(since)}`);
    if (from === this.log.length && waitMs > 0) await this.signal.wait(waitMs);
    const changes = this.log.slice(from, from + limit);
    return { changes, lastSeq: String(from + changes.length), complete: changes.length < limit };
  }

  async currentSeq(): Promise<string> {
    return String(this.log.length);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  /** Index of the first key greater than `key` (or greater-or-equal when `strict` is false). */
  private firstAfter(key: RangeCursor, strict: boolean): number {
    const last = this.keys[this.keys.length - 1];
    if (last === undefined || compare(last, key) < 0 || (strict && compare(last, key) === 0)) return this.keys.length;
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare(this.keys[mid]!, key);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
