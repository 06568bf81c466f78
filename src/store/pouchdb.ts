import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import PouchDB from 'pouchdb';
import { ChangeSignal } from './change-signal.js';
import { ChangeTail } from './change-tail.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { IdIndex, type IdEntry } from './id-index.js';
import { withIds } from './ids.js';
import { LevelClaimBook } from './level-claims.js';
import { OneAtATime } from './one-at-a-time.js';
import { RecentBlobs } from './recent-blobs.js';
import { roomToReopen, WriteRecovery } from './write-recovery.js';
import {
  InvalidSeqError,
  StoreError,
  StoreUnavailableError,
  type Change,
  type ChangesBatch,
  type ChangesOptions,
  type ClaimDoc,
  type KpiBlob,
  type RangeCursor,
  type RangeQuery,
  type SaveResult,
  type Store,
  type StoredBlob,
  type StoreHealth,
} from './store.js';

export interface PouchDbStoreOptions {
  /** Folder of the LevelDB files; created if missing (PouchDB will not create its parent). */
  dataDir: string;
  dbName: string;
  groupCommit: GroupCommitOptions;
  /** Told when opening has long work to do (catching the id index up, an older store's upgrade). */
  logger?: Logger | undefined;
}

/** `chosen`: the client gave the id, so it may exist already; a generated id is new by construction. */
interface Pending {
  doc: KpiBlob & { _id: string };
  chosen: boolean;
}
type Doc = Record<string, unknown> & { _id: string; _rev?: string };

/*
 * Layout. PouchDB's map/reduce views index about 1,000 docs/s here, so a range over a freshly
 * filled store would wait minutes for its index. Instead ranges walk the primary index
 * (allDocs), which is already sorted: each blob is one document,
 *   t/<timestamp, 16 digits>/<id>   ranges read these, in timestamp-then-id order
 * and an IdIndex beside the database maps each id to its timestamp: it finds a blob by id, and
 * makes `_id` unique. Stores written before it held that map as `i/<id>` documents, one per
 * blob; opening one moves them into the index.
 */
const TIME = 't/';
const OLD_POINTER = 'i/';
/** Changes read at once when the id index catches up with the database. */
const CATCH_UP_BATCH = 10_000;
const TIMESTAMP_DIGITS = 16; // Number.MAX_SAFE_INTEGER has 16 digits
const TIME_KEY_PREFIX_LENGTH = TIME.length + TIMESTAMP_DIGITS + 1;
/** Changes the feed follows from memory (~1 KB each): a few seconds of heavy ingest. */
const TAIL_CHANGES = 10_000;
/** Newest blobs a range read takes from memory: mostly the objects the tail holds anyway. */
const RECENT_BLOBS = TAIL_CHANGES;
/** Sub-ranges of a page read at once: libuv's thread pool, which runs LevelDB's reads, has 4 threads. */
const RANGE_READERS = 4;
const MIN_RANGE_PART = 100;
/**
 * LevelDB's options for both databases (PouchDB hands them to leveldown). LevelDB memory-maps
 * every table file it holds open, and each page a range or drain reads stays in the process's
 * RSS while the file is open. At most 64 tables open (74 files, LevelDB's least) of 1 MB each
 * bounds that to ~64 MiB: a million-blob range read peaked at 285 MiB RSS instead of 507, at
 * the same blobs/s.
 */
const LEVELDB: PouchDB.Configuration.LocalDatabaseConfiguration & { maxOpenFiles: number; maxFileSize: number } = {
  maxOpenFiles: 74,
  maxFileSize: 1024 * 1024,
};
const HIGHEST = '\u{10FFFF}'; // sorts after every id (keys compare as UTF-8 bytes)
const PROBE = '_local/kpiggybank-probe'; // a local document: in no change, count or range

const timePrefix = (timestamp: number) => `${TIME}${String(timestamp).padStart(TIMESTAMP_DIGITS, '0')}/`;
const timeKey = (timestamp: number, id: string) => timePrefix(timestamp) + id;
const idOf = (key: string) => key.slice(TIME_KEY_PREFIX_LENGTH);
const timestampOf = (key: string) => Number(key.slice(TIME.length, TIME_KEY_PREFIX_LENGTH - 1));

function blobOf(doc: Doc): StoredBlob {
  const { _id, _rev, ...blob } = doc;
  return { ...blob, _id: idOf(_id) } as StoredBlob;
}

/** The feed's change for a row of the database: blobs only (an old store's pointers are not). */
function changeOf(seq: number | string, key: string, rev: string, deleted: boolean, doc: Doc | undefined): Change | undefined {
  if (!key.startsWith(TIME)) return undefined;
  return { seq: String(seq), id: idOf(key), rev, deleted, doc: deleted || !doc ? undefined : blobOf(doc) };
}

function succeeded(result: PouchDB.Core.Response | PouchDB.Core.Error | undefined): boolean {
  return result !== undefined && 'ok' in result && result.ok === true;
}

function statusOf(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

/**
 * The docs with these ids, undefined where missing or deleted. PouchDB's allDocs({keys}) opens a
 * LevelDB iterator for every key: gets at once read ~3× as many a second, found or not.
 */
function getAll<T extends object>(db: PouchDB.Database, ids: readonly string[]): Promise<(PouchDB.Core.ExistingDocument<T> | undefined)[]> {
  return Promise.all(
    ids.map((id) =>
      db.get<T>(id).catch((error: unknown) => {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }),
    ),
  );
}

/** Embedded PouchDB on LevelDB: the zero-setup, persistent default. */
export class PouchDbStore implements Store {
  readonly backend = 'pouchdb';
  private db: PouchDB.Database | undefined;
  /** Claims live in a LevelDB of their own (blobs stay exactly one document each), on disk: they grow with the drain. */
  readonly claims: LevelClaimBook;
  private readonly writer: GroupCommit<Pending, boolean>;
  /** Only this process writes the LevelDB files (they are locked), so its own writes are every change. */
  private readonly signal = new ChangeSignal();
  private tail: ChangeTail | undefined;
  /** Filled and emptied by `write`: every blob write and removal goes through it. */
  private readonly recent = new RecentBlobs(RECENT_BLOBS);
  private ids: IdIndex | undefined;
  /** An index write failed after its database write: the index catches up before anything reads it. */
  private indexBehind = false;
  /** Writes to `db`, one at a time: the tail numbers each write's rows from the sequence before it. */
  private readonly writing = new OneAtATime();
  /**
   * Writes to the id index, in the order of the database writes they follow. A write's answer
   * does not wait for its index entries (the blobs are in the database, which the index can
   * always be rebuilt from): one LevelDB round trip less per POST. What reads the index waits.
   */
  private readonly indexing = new OneAtATime();
  /** LevelDB refuses every write after one failed to reach the disk (ENOSPC), until it is reopened: this reopens it. */
  private readonly recovery: WriteRecovery;
  /** Counts reopenings: an operation that failed on databases since closed failed because they were reopened. */
  private generation = 0;

  constructor(private readonly options: PouchDbStoreOptions) {
    // One write at a time: each write checks which ids exist before it stores, and that check
    // must not race another write. Concurrent requests still share writes (group commit).
    this.writer = new GroupCommit((docs) => this.bulkWrite(docs), { ...options.groupCommit, concurrency: 1 });
    this.claims = new LevelClaimBook(`${this.location}-claim-book`, (error) => this.recovery.failed(error));
    this.recovery = new WriteRecovery(() => this.reopen(), {
      logger: options.logger,
      what: `pouchdb at ${this.location}`,
    });
  }

  get location(): string {
    return path.join(this.options.dataDir, this.options.dbName);
  }

  async open(): Promise<void> {
    if (this.db) return;
    await this.openAll();
  }

  private async openAll(): Promise<void> {
    await mkdir(path.dirname(this.location), { recursive: true });
    // random revisions: a blob is written once, and an MD5 of every doc cost ingest ~8 % of its CPU
    const db = new PouchDB(this.location, { ...LEVELDB, deterministic_revs: false });
    let ids: IdIndex | undefined;
    try {
      await db.info(); // surfaces a LevelDB that cannot open (locked, unreadable) now, not at first request
      await this.claims.open();
      await this.moveOldClaims(`${this.location}-claims`);
      ids = await IdIndex.open(`${this.location}-ids`);
      const updateSeq = await this.catchUp(db, ids);
      this.db = db;
      this.ids = ids;
      this.tail = new ChangeTail(updateSeq, TAIL_CHANGES);
    } catch (error) {
      // closed again, so that a later attempt (a reopening) does not find them locked
      await Promise.allSettled([db.close(), ids?.close(), this.claims.close()]);
      throw error;
    }
  }

  /**
   * Brings the id index up to the database: replays the changes it has not seen (those of a
   * write it did not record before a crash; all of them for a new index), and moves an old
   * store's pointer documents into it. Answers the database's sequence once done.
   */
  private async catchUp(db: PouchDB.Database, ids: IdIndex): Promise<number> {
    let recorded = ids.reached;
    let since = Math.max(0, recorded);
    const target = Number((await db.info()).update_seq);
    if (target > since) this.options.logger?.info({ from: since, to: target }, 'pouchdb: bringing the id index up to the database');
    let moved = 0;
    for (;;) {
      const { results, last_seq } = await db.changes({ since, limit: CATCH_UP_BATCH });
      const entries: IdEntry[] = [];
      const oldPointers: Doc[] = [];
      for (const row of results) {
        if (row.id.startsWith(TIME)) entries.push({ id: idOf(row.id), timestamp: row.deleted ? undefined : timestampOf(row.id) });
        else if (row.id.startsWith(OLD_POINTER) && !row.deleted) oldPointers.push({ _id: row.id, _rev: row.changes[0]!.rev, _deleted: true });
      }
      // pointers go first: a crash in between replays these changes, never skips them
      if (oldPointers.length > 0) await db.bulkDocs(oldPointers);
      moved += oldPointers.length;
      since = Number(last_seq);
      if (since !== recorded) await ids.apply(entries, since);
      recorded = since;
      if (results.length === 0) break;
    }
    if (moved > 0) this.options.logger?.info({ blobs: moved }, 'pouchdb: moved the pointer documents of an older store into the id index');
    return Number((await db.info()).update_seq);
  }

  async save(blobs: readonly KpiBlob[]): Promise<SaveResult> {
    this.refuseWhileNotWritable('writing');
    const docs = withIds(blobs);
    const stored = await this.writer.submit(docs.map((doc, i) => ({ doc, chosen: blobs[i]!._id !== undefined })));
    return { ids: docs.map((d) => d._id), existing: docs.filter((_, i) => !stored[i]).map((d) => d._id) };
  }

  async get(id: string): Promise<StoredBlob | undefined> {
    return this.run(`reading blob ${id}`, async (db, ids) => {
      await this.indexUpToDate(db, ids);
      const [timestamp] = await ids.timestamps([id]);
      if (timestamp === undefined) return undefined;
      const [doc] = await getAll<Doc>(db, [timeKey(timestamp, id)]);
      return doc && blobOf(doc);
    });
  }

  async page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    if (query.end !== undefined && query.end < 0) return []; // timestamps are never negative
    const lower = query.start === undefined ? TIME : timePrefix(Math.max(0, query.start));
    const upper = query.end === undefined ? TIME + HIGHEST : timePrefix(query.end) + HIGHEST;
    const descending = query.descending === true;
    const blobs: StoredBlob[] = [];
    let cursor = after && timeKey(after.timestamp, after.id);
    while (blobs.length < size) {
      const want = size - blobs.length;
      // a large page reads its keys first, then their docs in parts at once; a small one reads once
      const split = want >= 2 * MIN_RANGE_PART;
      const rows = await this.rowsAfter(cursor ?? (descending ? upper : lower), cursor !== undefined, descending ? lower : upper, descending, want, !split);
      if (rows.length === 0) break;
      const keys = rows.map((row) => row.id);
      const read = split ? (this.recent.all(keys) ?? (await this.blobsBetween(keys, descending))) : rows.flatMap((row) => (row.doc ? [blobOf(row.doc)] : []));
      blobs.push(...read.slice(0, want));
      // blobs removed since the keys were read leave the page short: read on past them
      if (rows.length < want) break;
      cursor = keys[keys.length - 1];
    }
    return blobs;
  }

  /** Up to `limit` rows from `from` (not itself when `exclusive`) to `to`; keys alone read ~6× faster than with docs. */
  private async rowsAfter(from: string, exclusive: boolean, to: string, descending: boolean, limit: number, withDocs: boolean): Promise<{ id: string; doc?: Doc | null }[]> {
    const result = await this.run('reading a range', (db) =>
      // the row at `from` comes back first when it still exists; ask for one more and drop it
      db.allDocs<Doc>({ startkey: from, endkey: to, descending, include_docs: withDocs, limit: exclusive ? limit + 1 : limit }),
    );
    return result.rows.filter((row) => !exclusive || row.id !== from).slice(0, limit);
  }

  /**
   * The blobs from `keys[0]` to the last key, read as RANGE_READERS contiguous sub-ranges at once.
   * PouchDB fetches each doc of a range with its own LevelDB get, one after another (~0.2 ms each,
   * mostly waiting for the thread pool): parallel sub-ranges read ~2.5× as many blobs a second.
   * Each sub-range ends where the next starts, so together they cover every key in between.
   */
  private async blobsBetween(keys: readonly string[], descending: boolean): Promise<StoredBlob[]> {
    const parts = Math.max(1, Math.min(RANGE_READERS, Math.floor(keys.length / MIN_RANGE_PART)));
    const starts = Array.from({ length: parts }, (_, i) => keys[Math.floor((i * keys.length) / parts)]!);
    const pages = await Promise.all(
      starts.map((startkey, i) => {
        const next = starts[i + 1];
        const endkey = next ?? keys[keys.length - 1]!;
        return this.run('reading a range', (db) => db.allDocs<Doc>({ startkey, endkey, inclusive_end: next === undefined, descending, include_docs: true }));
      }),
    );
    return pages.flatMap((page) => page.rows.flatMap((row) => (row.doc ? [blobOf(row.doc)] : [])));
  }

  async count(): Promise<number> {
    // Every blob is exactly one live document (see the layout above).
    return this.run('counting blobs', async (db) => (await db.info()).doc_count);
  }

  async remove(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.run(`removing ${ids.length} blobs`, async (db, index) => {
      await this.indexUpToDate(db, index);
      const timestamps = await index.timestamps(ids);
      const keys = ids.flatMap((id, i) => (timestamps[i] === undefined ? [] : [timeKey(timestamps[i], id)]));
      const blobs = (await getAll<Doc>(db, keys)).filter((blob) => blob !== undefined);
      await this.write(blobs.map((doc) => ({ _id: doc._id, _rev: doc._rev, _deleted: true })));
      return blobs.length;
    });
  }

  async changes(since: string, { limit, waitMs }: ChangesOptions): Promise<ChangesBatch> {
    if (!/^\d+$/.test(since)) throw new InvalidSeqError(`the pouchdb store has no sequence ${JSON.stringify(since)}`);
    await this.sinceHeld(Number(since));
    const seen = this.signal.version;
    let batch = await this.readChanges(Number(since), limit);
    if (batch.complete && waitMs > 0) {
      // A write that landed during the read would otherwise sleep until the heartbeat (waitMs).
      await this.signal.wait(waitMs, seen);
      batch = await this.readChanges(Number(since), limit);
    }
    return batch;
  }

  /**
   * Rejects a `since` past the database's end: a consumer resuming against a rebuilt or restored
   * DATA_DIR would otherwise wait, live, for sequences that will never come. The tail knows the
   * end without asking (the follower's every read); a `since` past it (a write in flight has
   * moved the database on, or there is no tail) asks PouchDB itself.
   */
  private async sinceHeld(since: number): Promise<void> {
    if (this.tail && since <= this.tail.updateSeq) return;
    const end = Number(await this.run('reading the newest sequence', async (db) => (await db.info()).update_seq));
    if (since > end) throw new InvalidSeqError(`the pouchdb store has no sequence ${since}: its newest is ${end}`);
  }

  /** From the tail when it reaches back to `since`, else from PouchDB's own feed. */
  private async readChanges(since: number, limit: number): Promise<ChangesBatch> {
    const recent = this.tail?.read(since, limit);
    if (recent) return { changes: recent.changes, lastSeq: String(recent.lastSeq), complete: recent.changes.length === 0 };
    const result = await this.run('reading changes', (db) => db.changes<Doc>({ since, limit, include_docs: true, return_docs: true }));
    const changes: Change[] = [];
    for (const row of result.results) {
      const change = changeOf(row.seq, row.id, row.changes[0]?.rev ?? '', row.deleted === true, row.doc);
      if (change) changes.push(change);
    }
    // Only an empty answer proves there was nothing after `since` when it was asked (see CouchDbStore).
    return { changes, lastSeq: String(result.last_seq), complete: result.results.length === 0 };
  }

  async currentSeq(): Promise<string> {
    return this.run('reading the newest sequence', async (db) => String((await db.info()).update_seq));
  }

  async ping(): Promise<void> {
    await this.run('checking the database', (db) => db.info());
  }

  health(): StoreHealth {
    return this.recovery.health();
  }

  async close(): Promise<void> {
    await this.recovery.stop(); // queued writes are refused (503) rather than wait for a reopening
    await this.writer.drain();
    await this.writing.idle();
    await this.indexing.idle();
    const [db, ids] = [this.db, this.ids];
    this.db = undefined;
    this.ids = undefined;
    await db?.close();
    await this.claims.close();
    await ids?.close();
  }

  /** Stores the docs whose ids are new; answers, per doc, whether it was stored (false: it existed). */
  private async bulkWrite(pending: Pending[]): Promise<boolean[]> {
    return this.run(`writing ${pending.length} blobs`, async (db, ids) => {
      const chosen = pending.filter((p) => p.chosen).map((p) => p.doc._id);
      if (chosen.length > 0) await this.indexUpToDate(db, ids);
      const timestamps = await ids.timestamps(chosen);
      const taken = new Set(chosen.filter((_, i) => timestamps[i] !== undefined));
      const writes: Doc[] = [];
      const stored = pending.map(({ doc }) => {
        if (taken.has(doc._id)) return false;
        taken.add(doc._id); // the same id twice in one write: the first wins
        writes.push({ ...doc, _id: timeKey(doc.timestamp, doc._id) });
        return true;
      });
      if (writes.length > 0) {
        await this.write(writes);
      }
      return stored;
    });
  }

  /**
   * One bulkDocs, after the write before it. PouchDB numbers a write's rows one after another in
   * the order given, from where the write before left it (only this process writes), so the
   * feed's changes are recorded in the tail with their sequences. A write that does not take
   * exactly one sequence a row (a row refused) resets the tail: the database alone then knows.
   */
  private write(docs: Doc[]): Promise<void> {
    const run = async () => {
      this.refuseWhileNotWritable('writing');
      // the databases of now, not of the caller's start: a reopening may have come in between
      const { db, tail, ids } = this;
      if (!db || !tail || !ids) throw new StoreError(`PouchDB at ${this.location} is not open (while writing)`);
      const before = tail.updateSeq;
      // forgotten before the write: memory never holds a blob the database has removed, even after a failed write
      for (const doc of docs) if (doc._deleted) this.recent.removed(doc._id);
      let results: (PouchDB.Core.Response | PouchDB.Core.Error)[];
      try {
        results = await db.bulkDocs(docs);
      } catch (error) {
        // not one document refused, the whole write: LevelDB may refuse every write from now on
        this.recovery.failed(error);
        throw new StoreUnavailableError(`PouchDB at ${this.location} could not write: ${error instanceof Error ? error.message : String(error)}`);
      }
      // the write before had its index entries written meanwhile: at most one write's wait, so a slow index slows writes down instead of queueing without bound
      await this.indexing.idle();
      const after = Number((await db.info()).update_seq);
      const ok = results.map(succeeded);
      const written = docs.filter((_, i) => ok[i]);
      const entries = written.map((doc) => ({ id: idOf(doc._id), timestamp: doc._deleted ? undefined : timestampOf(doc._id) }));
      void this.indexing.run(() => this.index(ids, entries, after));
      const failed = results.find((_, i) => !ok[i]);
      const changes: { n: number; change: Change }[] = [];
      docs.forEach((doc, i) => {
        if (!ok[i]) return;
        const n = before + i + 1; // right when every row succeeded; otherwise the tail is reset below
        const change = changeOf(n, doc._id, (results[i] as PouchDB.Core.Response).rev, doc._deleted === true, doc);
        if (!change) return;
        if (change.doc) this.recent.written(doc._id, change.doc);
        changes.push({ n, change });
      });
      if (!failed && after - before === docs.length) tail.record(after, changes);
      else tail.reset(after);
      this.signal.notify();
      if (failed) throw new StoreError(`PouchDB did not write ${failed.id}: ${'message' in failed ? failed.message : 'unknown error'}`);
    };
    return this.writing.run(run);
  }

  /** Records a write's entries, unless an earlier one failed: its catch-up replays this write too (the index records how far it reached). */
  private async index(ids: IdIndex, entries: readonly IdEntry[], after: number): Promise<void> {
    if (this.indexBehind) return;
    try {
      await ids.apply(entries, after);
    } catch (error) {
      this.indexBehind = true;
      this.options.logger?.error({ err: error }, `pouchdb: the id index of ${this.location} was not written; it catches up from the database before it is read`);
    }
  }

  /** Waits for the index writes in flight, and after a failed one replays the database into the index. */
  private async indexUpToDate(db: PouchDB.Database, ids: IdIndex): Promise<void> {
    await this.indexing.idle();
    if (!this.indexBehind) return;
    await this.writing.run(async () => {
      await this.indexing.idle(); // writes that ended before this step may have queued entries
      if (!this.indexBehind) return;
      try {
        await this.catchUp(db, ids);
      } catch (error) {
        this.recovery.failed(error); // the index refused a write twice: its LevelDB may refuse all until reopened
        throw error;
      }
      this.indexBehind = false;
    });
  }

  /** Claims an older version kept as PouchDB documents (a drain may be under way): into the claim book, then the old database goes. */
  private async moveOldClaims(location: string): Promise<void> {
    if (!(await access(location).then(() => true, () => false))) return;
    const old = new PouchDB<ClaimDoc>(location, LEVELDB);
    const { rows } = await old.allDocs({ include_docs: true });
    await this.claims.adopt(rows.flatMap((row) => (row.doc ? [row.doc] : [])));
    await old.destroy();
    this.options.logger?.info({ claims: rows.length, from: location }, 'pouchdb: moved the drain claims into the claim book');
  }

  private async run<T>(what: string, operation: (db: PouchDB.Database, ids: IdIndex) => Promise<T>): Promise<T> {
    const { db, ids, generation } = this;
    if (!db || !ids) {
      if (!this.recovery.writable) throw new StoreUnavailableError(`PouchDB at ${this.location} is being reopened (while ${what})`);
      throw new StoreError(`PouchDB at ${this.location} is not open (while ${what})`);
    }
    try {
      if (this.indexBehind) await this.indexUpToDate(db, ids);
      return await operation(db, ids);
    } catch (error) {
      if (error instanceof StoreError || error instanceof StoreUnavailableError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      // closed under it to be reopened: the same request may succeed on the reopened database
      if (generation !== this.generation || !this.recovery.writable) throw new StoreUnavailableError(`PouchDB at ${this.location} is being reopened (while ${what}): ${message}`);
      throw new StoreError(`PouchDB at ${this.location} failed while ${what}: ${message}`);
    }
  }

  private refuseWhileNotWritable(what: string): void {
    if (!this.recovery.writable) throw new StoreUnavailableError(`PouchDB at ${this.location} cannot write now (while ${what}): a write failed, and the store is reopening`);
  }

  /**
   * One attempt of the recovery: once DATA_DIR has room again, closes the three LevelDBs and opens
   * them again (the id index catches up with whatever the failed writes left), then writes to
   * each. No write runs meanwhile; reads in flight on the closed databases fail with 503.
   */
  private async reopen(): Promise<void> {
    await this.writing.run(async () => {
      await this.indexing.idle();
      await roomToReopen(path.join(path.dirname(this.location), `.${this.options.dbName}-space-probe`));
      this.generation++;
      await this.release();
      try {
        await this.openAll();
        await this.probeWrites();
      } catch (error) {
        await this.release(); // closed, not half open: the next attempt opens all three again
        throw error;
      }
      this.indexBehind = false; // openAll caught the index up
      this.signal.notify(); // change reads waiting on the old tail read again
    });
  }

  private async probeWrites(): Promise<void> {
    const { db, ids } = this;
    if (!db || !ids) throw new StoreError(`PouchDB at ${this.location} is not open (while probing)`);
    const existing = await db.get(PROBE).catch((error: unknown) => {
      if (statusOf(error) === 404) return undefined;
      throw error;
    });
    await db.put({ _id: PROBE, _rev: existing?._rev, at: Date.now() });
    await ids.apply([], ids.reached);
    await this.claims.probe();
  }

  /** Closes the three LevelDBs, whatever state they are in. */
  private async release(): Promise<void> {
    const [db, ids] = [this.db, this.ids];
    this.db = undefined;
    this.ids = undefined;
    this.tail = undefined;
    const closing = [db?.close(), ids?.close(), this.claims.close()];
    for (const result of await Promise.allSettled(closing)) {
      if (result.status === 'rejected') this.options.logger?.warn({ err: result.reason }, `pouchdb at ${this.location}: closing a database to reopen it failed`);
    }
  }
}
