import type { ClassicLevel } from 'classic-level';
import type { Logger } from 'pino';
import { InvalidSeqError } from '../store.js';
import { CHANGE, CHANGE_END, changeKey, LOG_FLOOR, seqOf, TIME, TIME_END, timeKey, type ChangeEntry } from './keys.js';

type Db = ClassicLevel<string, string>;

export interface CompactionOptions {
  /** Removals since the last step that start the next one (a removal that empties the store starts one at once). */
  everyRemoved: number;
  /** Change-log entries kept whatever they are: the newest `retainChanges` sequences. */
  retainChanges: number;
  /** A step that is due waits for removals to pause this long (a drain's commit is not slowed by its own compaction). */
  quietMs: number;
  /** A read's `since` holds the trim back for one to two of these. */
  readWindowMs: number;
}

const COMPACTION_DEFAULTS: CompactionOptions = { everyRemoved: 100_000, retainChanges: 100_000, quietMs: 1_000, readWindowMs: 5_000 };

/** What a step needs of its store, read afresh at each chunk: the store may be closed or reopened meanwhile. */
interface CompactionHost {
  db(): Db | undefined;
  /** The store's newest sequence and its blob count, as committed. */
  meta(): { seq: number; count: number };
  /** Compacts the claim book's own LevelDB (the drain's claims are deleted as its blobs are). */
  compactClaims(): Promise<void>;
  location: string;
  logger?: Logger | undefined;
}

const MAX_PINNED_RETRIES = 12;
/** Entries of the change log read, and trimmed, at once: a chunk is one small unsynced batch between writes. */
const CHUNK = 2_000;
const yieldToWrites = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Reclaims the disk of removed blobs. LevelDB deletes by writing tombstones: a drained store keeps
 * its old tables (and the tombstones above them) until a compaction of their key range reaches the
 * bottom level, which with no new writes never comes. And the change log (c<seq>) grows by one
 * entry per write and per removal for ever. So, after removals, one step at a time in the
 * background:
 *
 * 1. **Trims the change log.** The log is history within its retention: a removal keeps its
 *    blob's JSON in the blob's write entry (keys.ts), so a reader from `since` gets every write
 *    after it, also of blobs removed since, then their removals. The trim drops, below the
 *    retention boundary (seq ≤ newest − `retainChanges`), (a) the write entry of every blob since
 *    removed (with the JSON it kept: a drained blob's body is on disk until the trim passes its
 *    write; an entry of the older layout, without JSON, whose time key is gone), and (b) every
 *    removal entry. Both change answers: a reader from before the boundary would miss the writes
 *    of blobs removed since and the removals of blobs it saw written. So the boundary is first
 *    recorded as the log's floor (key LOG_FLOOR, kept across restarts), and a `since` with
 *    0 < since < floor is refused with InvalidSeqError (HTTP 400 / WebSocket close 4400
 *    invalid_since: resume from 0, which is every blob stored plus the history retained, or from
 *    now), so that a lagging reader fails loudly rather than silently miss blobs. A `since` at or
 *    above the floor gets exactly the answer it had before.
 *    The boundary is also never above a `since` read in the last one to two `readWindowMs` (5–10 s): the change hub's follower,
 *    or a subscriber catching up, that lags more than `retainChanges` is not cut off mid-read (a
 *    reader keeping up reads near the end, so it pins nothing the retention would not keep). A step
 *    that a reader held back on an empty store is tried again every `readWindowMs`, a dozen times
 *    at most (cheap there: one native clear), so the log shrinks once the follower caught up.
 *    The write entries of blobs still stored are never dropped (since=0 lists every blob), so the
 *    log holds one entry per stored blob plus `retainChanges` (more only while a lagging reader holds the trim back).
 * 2. **Compacts** the blobs, the id index, the change log and the claim book, each range with
 *    LevelDB's compactRange, one after the other. LevelDB flushes its memtable first and runs a
 *    manual compaction a piece at a time on its background thread, flushing new memtables between
 *    pieces, so writes go on meanwhile (they slow down, not stop).
 *
 * When: a step is due after `everyRemoved` removals (or the store's own count, if larger, so that
 * rereading the live part of the log costs O(1) per removal), and starts once removals paused for
 * `quietMs` (a drain's commit is not slowed by it); or at once when a removal leaves the store
 * empty: then every write entry is of a blob since removed and the log below the boundary goes in
 * one native `clear`. One step runs at a time; removals during it start another after it. `stop()`
 * (closing the store) lets the trim end after its current chunk and waits for a compactRange
 * under way, so closing waits seconds at most.
 */
export class Compaction {
  /** Since values below this (but 0) are refused: the writes of removed blobs and the removals before it may be trimmed. */
  private floor = 0;
  private removedSinceStep = 0;
  /** The oldest `since` (but 0) read in the current window and in the one before: a trim stays at or below both. */
  private readSince = { current: Number.POSITIVE_INFINITY, previous: Number.POSITIVE_INFINITY, from: 0 };
  private running: Promise<void> | undefined;
  /** A due step waiting for removals to pause. */
  private quiet: NodeJS.Timeout | undefined;
  private again = false;
  /** Steps tried again since the last removal because a reader held the trim back (an empty store only). */
  private pinnedRetries = 0;
  private stopped = false;
  private readonly options: CompactionOptions;

  constructor(
    private readonly host: CompactionHost,
    options: Partial<CompactionOptions> = {},
  ) {
    this.options = { ...COMPACTION_DEFAULTS, ...options };
  }

  /** Reads the recorded floor of the change log (at each opening). */
  async opened(db: Db): Promise<void> {
    const floor = await db.get(LOG_FLOOR);
    this.floor = floor === undefined ? 0 : Number(floor);
    this.stopped = false;
  }

  /** The oldest `since` (but 0) the change log still answers in full. */
  get logFloor(): number {
    return this.floor;
  }

  /** Refuses a `since` older than the retained change log; 0 (everything there is) is always answered. */
  checkSince(since: number): void {
    if (since > 0 && since < this.floor) {
      throw new InvalidSeqError(
        `the leveldb store's change log starts at sequence ${this.floor} (older changes were trimmed): sequence ${since} is too old; resume from 0 or from now`,
      );
    }
    if (since > 0) {
      const reads = this.rotateReads();
      if (since < reads.current) reads.current = since;
    }
  }

  /** The read windows as of now: a window is `readWindowMs` long; older ones are forgotten. */
  private rotateReads(): { current: number; previous: number; from: number } {
    const reads = this.readSince;
    const now = Date.now();
    const window = this.options.readWindowMs;
    if (now - reads.from >= window) {
      reads.previous = now - reads.from < 2 * window ? reads.current : Number.POSITIVE_INFINITY;
      reads.current = Number.POSITIVE_INFINITY;
      reads.from = now;
    }
    return reads;
  }

  /** After a removal was committed: `removed` blobs, leaving `count`. */
  removed(removed: number, count: number): void {
    this.removedSinceStep += removed;
    this.pinnedRetries = 0;
    if (count === 0) this.start();
    else if (this.quiet) this.quiet.refresh();
    else if (this.removedSinceStep >= Math.max(this.options.everyRemoved, count)) {
      this.quiet = setTimeout(() => this.start(), this.options.quietMs);
      this.quiet.unref();
    }
  }

  /** Starts a due step at once, and resolves once no step runs (none was due, or the last one ended). */
  async idle(): Promise<void> {
    if (this.quiet) this.start();
    while (this.running) await this.running;
  }

  /** Ends the step under way as soon as it can, and waits for it: before the database closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.again = false;
    clearTimeout(this.quiet);
    this.quiet = undefined;
    await this.idle();
  }

  private start(): void {
    clearTimeout(this.quiet);
    this.quiet = undefined;
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.removedSinceStep = 0;
    this.running = this.step()
      .catch((error: unknown) => {
        // best effort: the next removals start another step
        if (!this.stopped) this.host.logger?.warn({ err: error }, `leveldb at ${this.host.location}: compacting after removals failed`);
        return false;
      })
      .then((heldBack) => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.start();
        } else if (heldBack && this.pinnedRetries < MAX_PINNED_RETRIES) {
          this.pinnedRetries++;
          this.quiet = setTimeout(() => this.start(), this.options.readWindowMs);
          this.quiet.unref();
        }
      });
  }

  /** Resolves true when a reader held an empty store's trim back: worth trying again soon. */
  private async step(): Promise<boolean> {
    const heldBack = await this.trim();
    for (const [start, end] of [
      [TIME, TIME_END],
      ['i', 'j'],
      [CHANGE, CHANGE_END],
    ] as const) {
      if (this.stopped) return false;
      const db = this.host.db();
      if (!db) return false;
      await db.compactRange(start, end);
    }
    if (!this.stopped) await this.host.compactClaims();
    return heldBack;
  }

  /** Resolves true when the store was empty and a reader held the boundary below the retention's. */
  private async trim(): Promise<boolean> {
    const { seq, count } = this.host.meta();
    const reads = this.rotateReads();
    const boundary = Math.min(seq - this.options.retainChanges, reads.current, reads.previous);
    const heldBack = count === 0 && boundary < seq - this.options.retainChanges;
    if (boundary <= 0) return heldBack;
    const db = this.host.db();
    if (!db) return false;
    if (boundary > this.floor) {
      // raised before any entry goes: a read that began before the trim and ends after it is refused too (see checkSince's callers)
      this.floor = boundary;
      await db.put(LOG_FLOOR, String(boundary));
    }
    if (count === 0) {
      // every write entry below the boundary is of a blob since removed: one native range delete
      await db.clear({ gt: CHANGE, lte: changeKey(boundary) });
      return heldBack;
    }
    let after = CHANGE;
    for (;;) {
      if (this.stopped) return false;
      const current = this.host.db();
      if (!current) return false;
      const entries = await current.iterator({ gt: after, lte: changeKey(boundary), limit: CHUNK }).all();
      if (entries.length === 0) return false;
      after = entries[entries.length - 1]![0];
      const parsed = entries.map(([key, value]) => ({ key, seq: seqOf(key), ...(JSON.parse(value) as ChangeEntry) }));
      // a write entry that kept its blob's JSON is of a blob since removed; one of the older layout is if its time key is gone
      const unknown = parsed.filter((entry) => !entry.deleted && entry.json === undefined);
      const blobs =
        unknown.length === 0
          ? []
          : await current.getMany(
              unknown.map((entry) => timeKey(entry.ts, entry.id)),
              { fillCache: false },
            );
      const gone = new Set(unknown.filter((_, i) => blobs[i] === undefined).map((entry) => entry.key));
      const batch = current.batch();
      let dropped = 0;
      for (const entry of parsed) {
        if (entry.deleted || entry.json !== undefined || gone.has(entry.key)) {
          batch.del(entry.key);
          dropped++;
        }
      }
      if (dropped > 0) await batch.write();
      else await batch.close();
      if (entries.length < CHUNK) return false;
      await yieldToWrites();
    }
  }
}
