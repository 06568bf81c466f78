import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Logger } from 'pino';
import { ChangeSignal } from '../change-signal.js';
import { GroupCommit, type GroupCommitOptions } from '../group-commit.js';
import { withIds } from '../ids.js';
import { LevelClaimBook } from './claim-book.js';
import { OneAtATime } from '../one-at-a-time.js';
import { roomToReopen, WriteRecovery } from '../write-recovery.js';
import {
  InvalidSeqError,
  StoreError,
  StoreUnavailableError,
  type Change,
  type ChangesBatch,
  type ChangesOptions,
  type KpiBlob,
  type RangeCursor,
  type RangeQuery,
  type RangeRow,
  type SaveResult,
  type Store,
  type StoredBlob,
  type StoreHealth,
} from '../store.js';
import {
  CHANGE_END,
  changeKey,
  idKey,
  idValue,
  META,
  parseIdValue,
  PROBE,
  idOf,
  seqOf,
  TIME,
  TIME_END,
  timeCeiling,
  timeFloor,
  timeKey,
  timestampOf,
  type ChangeEntry,
  type Meta,
} from './keys.js';
import { migrateFromPouchDb } from './pouchdb-migration.js';
import { Compaction, type CompactionOptions } from './compaction.js';
import { StoredChange } from './stored-change.js';

interface LevelDbStoreOptions {
  /** Folder holding the store's folders; created if missing. */
  dataDir: string;
  dbName: string;
  groupCommit: GroupCommitOptions;
  logger?: Logger | undefined;
  /** When removed blobs leave the disk and how much change log is kept (compaction.ts). */
  compaction?: Partial<CompactionOptions> | undefined;
}

/** `chosen`: the client gave the id, so it may exist already; a generated id is new by construction. */
interface Pending {
  doc: KpiBlob & { _id: string };
  chosen: boolean;
}

type Db = ClassicLevel<string, string>;
type Operation = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/**
 * LevelDB memory-maps every table file it holds open, and the pages a range read touches stay in
 * RSS while the file is open: 74 files (LevelDB's least) of 1 MB each bound that to ~64 MiB (as
 * measured for the former pouchdb backend, which used the same engine). A write buffer (memtable)
 * of 8 MiB rather than 4: each level-0 file spans all three kinds of keys, so it overlaps all of
 * level 1 and its compaction rewrites that; flushed less often, LevelDB spends less CPU per blob
 * (in process, 300,000 blobs of 3 keys, two runs: 4 MiB ~12.5 µs, 16 MiB ~8.5 µs). Not 16: the
 * memtable being written and the one being flushed both count in RSS, and a 1,000,000-blob fill,
 * drain and compaction peaked at 242–276 MiB with 16, 221 with 8, 212 with 4 (issue 22 bounds it
 * at 250), while batched POSTs showed no difference between 8 and 16 (4 filled half as fast).
 */
const LEVELDB = { maxOpenFiles: 74, maxFileSize: 1024 * 1024, writeBufferSize: 8 * 1024 * 1024 } as const;

/** The iterator options of a range page, or undefined when it is empty by its bounds alone. */
function rangeOptions(query: RangeQuery, after: RangeCursor | undefined, size: number) {
  if (size <= 0 || (query.end !== undefined && query.end < 0)) return undefined; // timestamps are never negative
  const start = query.start === undefined ? undefined : Math.max(0, query.start);
  if (start !== undefined && query.end !== undefined && start > query.end) return undefined;
  // bounds of the query, then narrowed by the cursor when it lies inside them
  let lower: { gt: string } | { gte: string } = start === undefined ? { gt: TIME } : { gte: timeFloor(start) };
  let upper: { lt: string } = { lt: query.end === undefined ? TIME_END : timeCeiling(query.end) };
  if (after && query.descending && (query.end === undefined || after.timestamp <= query.end)) upper = { lt: timeKey(after.timestamp, after.id) };
  if (after && !query.descending && (start === undefined || after.timestamp >= start)) lower = { gt: timeKey(after.timestamp, after.id) };
  // LevelDB's default of 16 KiB read at a time (~30 blobs): 1 or 4 MiB read a 100,000-blob range
  // ~1.3× as fast but raised the service's peak RSS from ~185 to 260–310 MiB
  return { ...lower, ...upper, reverse: query.descending === true, limit: size };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const causeCodeOf = (error: unknown) => (error as { cause?: { code?: unknown } }).cause?.code;

/**
 * The embedded store written directly on LevelDB (classic-level): blobs, an id index and a change
 * log in one database (layout: keys.ts). Each group-commit batch is one atomic `batch` with
 * `sync: true` (LevelDB fsyncs its log before answering), so a save resolves, and its 201 is
 * sent, only once its blobs are on disk.
 */
export class LevelDbStore implements Store {
  readonly backend = 'leveldb';
  /** A removal keeps its blob's JSON in the write entry, until the trim passes it (compaction.ts). */
  readonly keepsRemovedWrites = true;
  /** Claims in a LevelDB of their own, beside the blobs. */
  readonly claims: LevelClaimBook;
  private db: Db | undefined;
  private meta: Meta = { count: 0, seq: 0 };
  private readonly writer: GroupCommit<Pending, boolean>;
  /** Every write (saves and removals), one at a time: each reads the ids and the meta it then writes. */
  private readonly writing = new OneAtATime();
  /** Only this process writes the files (LevelDB locks them), so its own writes are every change. */
  private readonly signal = new ChangeSignal();
  /** LevelDB may refuse every write after one failed to reach the disk (ENOSPC) until reopened: this reopens it. */
  private readonly recovery: WriteRecovery;
  /** Counts reopenings: a read that failed on a database since closed may succeed when asked again. */
  private generation = 0;
  /** Trims the change log and compacts after removals, in the background (compaction.ts). */
  readonly compaction: Compaction;

  constructor(private readonly options: LevelDbStoreOptions) {
    this.compaction = new Compaction(
      { db: () => this.db, meta: () => this.meta, compactClaims: () => this.claims.compact(), location: this.location, logger: options.logger },
      options.compaction,
    );
    // concurrency 1: the id check and the sequence numbering of a batch must not race another
    this.writer = new GroupCommit((pending) => this.bulkWrite(pending), { ...options.groupCommit, concurrency: 1 });
    this.claims = new LevelClaimBook(`${this.location}-claims`, (error) => this.recovery.failed(error), true);
    this.recovery = new WriteRecovery(() => this.reopen(), {
      logger: options.logger,
      what: `leveldb at ${this.location}`,
    });
  }

  /** Not the former pouchdb backend's folder (DATA_DIR/DB_NAME), which it is migrated from. */
  get location(): string {
    return path.join(this.options.dataDir, `${this.options.dbName}.leveldb`);
  }

  async open(): Promise<void> {
    if (this.db) return;
    await this.openAll();
    try {
      // before anything reads or writes: the blobs of a pouchdb store in the same DATA_DIR move over first
      this.meta = await migrateFromPouchDb({ db: this.db!, meta: this.meta, from: this.pouchDbLocation, to: this.location, logger: this.options.logger });
    } catch (error) {
      await this.release();
      throw error;
    }
  }

  /** Where the former pouchdb backend kept its store (DATA_DIR/DB_NAME): migrated on opening. */
  get pouchDbLocation(): string {
    return path.join(this.options.dataDir, this.options.dbName);
  }

  private async openAll(): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true });
    const db: Db = new ClassicLevel<string, string>(this.location, { keyEncoding: 'utf8', valueEncoding: 'utf8', ...LEVELDB });
    try {
      await db.open();
    } catch (error) {
      if (causeCodeOf(error) === 'LEVEL_LOCKED') {
        throw new StoreError(`the leveldb store at ${this.location} is in use by another process (its LOCK is held); stop that one first`, { cause: error });
      }
      throw new StoreError(`the leveldb store at ${this.location} could not be opened: ${messageOf(error)}${causeCodeOf(error) ? ` (${String(causeCodeOf(error))})` : ''}`, {
        cause: error,
      });
    }
    try {
      const meta = await db.get(META);
      this.meta = meta === undefined ? { count: 0, seq: 0 } : (JSON.parse(meta) as Meta);
      await this.compaction.opened(db);
      await this.claims.open();
    } catch (error) {
      await Promise.allSettled([db.close(), this.claims.close()]);
      throw new StoreError(`the leveldb store at ${this.location} could not be opened (reading its meta or claim book): ${messageOf(error)}`, { cause: error });
    }
    this.db = db;
  }

  async save(blobs: readonly KpiBlob[]): Promise<SaveResult> {
    this.refuseWhileNotWritable('writing');
    const docs = withIds(blobs);
    const stored = await this.writer.submit(docs.map((doc, i) => ({ doc, chosen: blobs[i]!._id !== undefined })));
    return { ids: docs.map((d) => d._id), existing: docs.filter((_, i) => !stored[i]).map((d) => d._id) };
  }

  async get(id: string): Promise<StoredBlob | undefined> {
    return this.run(`reading blob ${id}`, async (db) => {
      const value = await db.get(idKey(id));
      if (value === undefined) return undefined;
      const json = await db.get(timeKey(parseIdValue(value).timestamp, id));
      return json === undefined ? undefined : (JSON.parse(json) as StoredBlob);
    });
  }

  async page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    const range = rangeOptions(query, after, size);
    if (!range) return [];
    const values = await this.run('reading a range', (db) => db.values(range).all());
    return values.map((json) => JSON.parse(json) as StoredBlob);
  }

  /** The page as stored: the key gives the timestamp and id, the value is the blob's JSON (not parsed). */
  async pageJson(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<RangeRow[]> {
    const range = rangeOptions(query, after, size);
    if (!range) return [];
    const entries = await this.run('reading a range', (db) => db.iterator(range).all());
    return entries.map(([key, json]) => ({ timestamp: timestampOf(key), id: idOf(key), json }));
  }

  async count(): Promise<number> {
    this.opened('counting blobs');
    return this.meta.count;
  }

  remove(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return this.writing.run(() =>
      this.run(`removing ${ids.length} blobs`, async (db) => {
        this.refuseWhileNotWritable('removing');
        const unique = [...new Set(ids)];
        const values = await db.getMany(unique.map(idKey));
        const stored: { id: string; ts: number; written: number | undefined }[] = [];
        unique.forEach((id, i) => {
          const value = values[i];
          if (value === undefined) return;
          const { timestamp: ts, seq: written } = parseIdValue(value);
          stored.push({ id, ts, written });
        });
        if (stored.length === 0) return 0;
        // the bodies, for the write entries to keep (read once, not cached: their keys go in this batch)
        const bodies = await db.getMany(
          stored.map(({ id, ts }) => timeKey(ts, id)),
          { fillCache: false },
        );
        const operations: Operation[] = [];
        let { count, seq } = this.meta;
        stored.forEach(({ id, ts, written }, i) => {
          const removal: ChangeEntry = { id, ts, deleted: true };
          operations.push({ type: 'del', key: timeKey(ts, id) }, { type: 'del', key: idKey(id) }, { type: 'put', key: changeKey(++seq), value: JSON.stringify(removal) });
          // The write entry keeps the blob, so that a reader from before the write (an exporter
          // down or behind while a drain commits) still gets it, then its removal: the log is
          // history within its retention, and the trim drops these below it (compaction.ts).
          if (written !== undefined) {
            const json = bodies[i];
            const write: ChangeEntry = { id, ts, deleted: false, json };
            operations.push(json === undefined ? { type: 'del', key: changeKey(written) } : { type: 'put', key: changeKey(written), value: JSON.stringify(write) });
          }
          count--;
        });
        const removed = this.meta.count - count;
        await this.commit(db, operations, { count, seq }, `removing ${removed} blobs`);
        this.compaction.removed(removed, count);
        return removed;
      }),
    );
  }

  async changes(since: string, { limit, waitMs, docs = true }: ChangesOptions): Promise<ChangesBatch> {
    if (!/^\d+$/.test(since)) throw new InvalidSeqError(`the leveldb store has no sequence ${JSON.stringify(since)}`);
    const from = Number(since);
    this.opened('reading changes');
    if (from > this.meta.seq) throw new InvalidSeqError(`the leveldb store has no sequence ${from}: its newest is ${this.meta.seq}`);
    this.compaction.checkSince(from);
    const seen = this.signal.version;
    let batch = await this.readChanges(from, limit, docs);
    if (batch.changes.length === 0 && batch.lastSeq === since && waitMs > 0) {
      // `seen` was noted before the read: a write that landed during it wakes this at once
      await this.signal.wait(waitMs, seen);
      batch = await this.readChanges(from, limit, docs);
    }
    this.compaction.checkSince(from); // the log was trimmed past `from` during the read: it may lack removals
    return batch;
  }

  /**
   * Up to `limit` entries of the change log after `since`, each write with its blob: a blob still
   * stored read from its time key, one removed since from the JSON its write entry kept (its
   * removal follows in the log). A write entry of the older layout whose blob is gone has no blob
   * to give and is left out. Without `withDocs`, every entry, no blob read.
   */
  private async readChanges(since: number, limit: number, withDocs: boolean): Promise<ChangesBatch> {
    return this.run('reading changes', async (db) => {
      const entries = await db.iterator({ gt: changeKey(since), lt: CHANGE_END, limit }).all();
      // plain loops, no intermediate objects: a replay reads 100,000 changes a second through here
      const parsed = entries.map(([, value]) => JSON.parse(value) as ChangeEntry);
      const seqs = entries.map(([key]) => String(seqOf(key)));
      const lastSeq = entries.length === 0 ? String(since) : seqs[seqs.length - 1]!;
      const complete = entries.length < limit;
      if (!withDocs) {
        // the change hub following the log with no subscriber: reading back every blob just written was ~10 % of a batched POST's CPU
        const changes = parsed.map(({ id, deleted }, i): Change => ({ seq: seqs[i]!, id, rev: seqs[i]!, deleted }));
        return { changes, lastSeq, complete };
      }
      const keys: string[] = [];
      for (const entry of parsed) if (!entry.deleted && entry.json === undefined) keys.push(timeKey(entry.ts, entry.id));
      const docs = keys.length === 0 ? [] : await db.getMany(keys);
      const changes: Change[] = [];
      let write = 0;
      for (let i = 0; i < parsed.length; i++) {
        const { id, deleted, json: kept } = parsed[i]!;
        const seq = seqs[i]!; // a seq names one change of one id
        if (deleted) {
          changes.push({ seq, id, rev: seq, deleted: true });
          continue;
        }
        const json = kept ?? docs[write++];
        if (json !== undefined) changes.push(new StoredChange(seq, id, json));
      }
      return { changes, lastSeq, complete };
    });
  }

  async currentSeq(): Promise<string> {
    this.opened('reading the newest sequence');
    return String(this.meta.seq);
  }

  async ping(): Promise<void> {
    await this.run('checking the database', (db) => db.get(META));
  }

  health(): StoreHealth {
    return this.recovery.health();
  }

  async close(): Promise<void> {
    await this.recovery.stop(); // queued writes are refused (503) rather than wait for a reopening
    await this.writer.drain();
    await this.writing.idle();
    await this.compaction.stop();
    const db = this.db;
    this.db = undefined;
    await db?.close();
    await this.claims.close();
  }

  /** Stores the docs whose ids are new, in one durable batch; answers, per doc, whether it was stored (false: the id existed). */
  private bulkWrite(pending: Pending[]): Promise<boolean[]> {
    return this.writing.run(() =>
      this.run(`writing ${pending.length} blobs`, async (db) => {
        this.refuseWhileNotWritable('writing');
        const chosen = pending.filter((p) => p.chosen).map((p) => p.doc._id);
        const found = chosen.length === 0 ? [] : await db.getMany(chosen.map(idKey));
        const taken = new Set(chosen.filter((_, i) => found[i] !== undefined));
        const { seq } = this.meta;
        let { count } = this.meta;
        const stored: boolean[] = [];
        const values: string[] = []; // encoded first: a blob JSON cannot encode is its caller's error, not a failed write
        for (const { doc } of pending) {
          const fresh = !taken.has(doc._id);
          stored.push(fresh);
          if (!fresh) continue;
          taken.add(doc._id); // the same id twice in one batch: the first wins
          values.push(JSON.stringify(doc));
          count++;
        }
        if (values.length === 0) return stored;
        const batch = db.batch();
        await this.write(
          batch,
          () => {
            // straight into the batch, no operation objects: a batched POST spends its CPU here, per blob
            let next = 0;
            for (let i = 0; i < pending.length; i++) {
              if (!stored[i]) continue;
              const { doc } = pending[i]!;
              batch.put(timeKey(doc.timestamp, doc._id), values[next]!);
              batch.put(idKey(doc._id), idValue(doc.timestamp, seq + ++next));
              // a ChangeEntry's JSON written out: the text JSON.stringify gives for { id, ts, deleted: false }
              batch.put(changeKey(seq + next), `{"id":${JSON.stringify(doc._id)},"ts":${doc.timestamp},"deleted":false}`);
            }
          },
          { count, seq: seq + values.length },
          `writing ${values.length} blobs`,
        );
        return stored;
      }),
    );
  }

  /** One atomic, fsync'd batch with the new meta; the meta in memory moves only once it is on disk. */
  private async commit(db: Db, operations: Operation[], meta: Meta, what: string): Promise<void> {
    // a chained batch: abstract-level's array form checks and copies each operation, ~4× the CPU per blob here
    const batch = db.batch();
    await this.write(
      batch,
      () => {
        for (const operation of operations) {
          if (operation.type === 'put') batch.put(operation.key, operation.value);
          else batch.del(operation.key);
        }
      },
      meta,
      what,
    );
  }

  /** Fills `batch` (by `fill`), then writes it with the new meta as one atomic, fsync'd batch, as `commit` does. */
  private async write(batch: ReturnType<Db['batch']>, fill: () => void, meta: Meta, what: string): Promise<void> {
    try {
      fill();
      batch.put(META, JSON.stringify(meta));
      await batch.write({ sync: true });
    } catch (error) {
      await batch.close().catch(() => undefined); // one that failed before its write still holds native memory (closing twice is harmless)
      // not one key refused, the whole write: LevelDB may refuse every write from now on
      this.recovery.failed(error);
      throw new StoreUnavailableError(`the leveldb store at ${this.location} could not write (while ${what}): ${messageOf(error)}`);
    }
    this.meta = meta;
    this.signal.notify();
  }

  private opened(what: string): void {
    if (this.db) return;
    if (!this.recovery.writable) throw new StoreUnavailableError(`the leveldb store at ${this.location} is being reopened (while ${what})`);
    throw new StoreError(`the leveldb store at ${this.location} is not open (while ${what})`);
  }

  private async run<T>(what: string, operation: (db: Db) => Promise<T>): Promise<T> {
    this.opened(what);
    const { db, generation } = this;
    try {
      return await operation(db!);
    } catch (error) {
      if (error instanceof StoreError || error instanceof StoreUnavailableError || error instanceof InvalidSeqError) throw error;
      // closed under it to be reopened: the same request may succeed on the reopened database
      if (generation !== this.generation || !this.recovery.writable)
        throw new StoreUnavailableError(`the leveldb store at ${this.location} is being reopened (while ${what}): ${messageOf(error)}`);
      throw new StoreError(`the leveldb store at ${this.location} failed while ${what}: ${messageOf(error)}`);
    }
  }

  private refuseWhileNotWritable(what: string): void {
    if (!this.recovery.writable)
      throw new StoreUnavailableError(`the leveldb store at ${this.location} cannot write now (while ${what}): a write failed, and the store is reopening`);
  }

  /** One attempt of the recovery: once DATA_DIR has room again, closes both LevelDBs, opens them again, and writes to each. No write runs meanwhile. */
  private reopen(): Promise<void> {
    return this.writing.run(async () => {
      await roomToReopen(path.join(this.options.dataDir, `.${this.options.dbName}.leveldb-space-probe`));
      this.generation++;
      await this.release();
      try {
        await this.openAll();
        await this.db!.batch(
          [
            { type: 'put', key: PROBE, value: '' },
            { type: 'del', key: PROBE },
          ],
          { sync: true },
        );
        await this.claims.probe();
      } catch (error) {
        await this.release(); // closed, not half open: the next attempt opens both again
        throw error;
      }
      this.signal.notify(); // change reads waiting on the closed database read again
    });
  }

  private async release(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    for (const result of await Promise.allSettled([db?.close(), this.claims.close()])) {
      if (result.status === 'rejected') this.options.logger?.warn({ err: result.reason }, `leveldb at ${this.location}: closing a database to reopen it failed`);
    }
  }
}
