import type { Change } from './store.js';

/**
 * The newest changes of a database this process alone writes, kept as they are written, so
 * that the change feed can follow them without asking the database. PouchDB's own changes
 * cost ~0.2 ms a row here: at 1,000 blobs/s the follower fell seconds behind.
 *
 * Every change with a sequence above `from` is held; older ones are read from the database.
 * Sequences are integers; the database may use some for changes the tail does not hold (their
 * numbers are simply skipped, as the feed skips rows that are not blobs).
 */
export class ChangeTail {
  /** Held changes are `entries[first..]`: dropping the oldest moves `first`, not the array (a splice per write was 1.6 % of the service's CPU under single POSTs). */
  private entries: { n: number; change: Change }[] = [];
  private first = 0;
  /** Every change after this sequence is in `entries`. */
  private from: number;
  /** The database's newest sequence, as of the last write recorded: where the next write starts. */
  private end: number;

  constructor(
    updateSeq: number,
    private readonly maxEntries: number,
  ) {
    this.from = updateSeq;
    this.end = updateSeq;
  }

  get updateSeq(): number {
    return this.end;
  }

  /** Records a write that took the database to `after`; `changes` are those of its rows the feed shows, with their sequences. */
  record(after: number, changes: readonly { n: number; change: Change }[]): void {
    this.entries.push(...changes);
    this.end = after;
    const held = this.entries.length - this.first;
    if (held > this.maxEntries) {
      this.first += held - this.maxEntries;
      this.from = this.entries[this.first - 1]!.n;
      // gone entries still hold their docs: copy the held ones once a quarter of their number has gone (~4 copies an entry)
      if (this.first >= this.maxEntries / 4) {
        this.entries = this.entries.slice(this.first);
        this.first = 0;
      }
    }
  }

  /** Forgets everything: from now on, only changes after `updateSeq` are held. */
  reset(updateSeq: number): void {
    this.entries = [];
    this.first = 0;
    this.from = updateSeq;
    this.end = updateSeq;
  }

  /** Up to `limit` changes after `since`, or undefined when they are older than the tail. */
  read(since: number, limit: number): { changes: Change[]; lastSeq: number } | undefined {
    if (since < this.from) return undefined;
    let lo = this.first; // binary search for the first entry after `since`: entries are in sequence order
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.n > since) hi = mid;
      else lo = mid + 1;
    }
    const taken = this.entries.slice(lo, lo + limit);
    const more = lo + limit < this.entries.length;
    return { changes: taken.map((entry) => entry.change), lastSeq: more ? taken[taken.length - 1]!.n : Math.max(since, this.end) };
  }
}
