import { randomBytes } from 'node:crypto';
import { ClassicLevel, type BatchOperation } from 'classic-level';
import { OneAtATime } from '../one-at-a-time.js';
import { StoreError, StoreUnavailableError, type ClaimBook, type ClaimDoc } from '../store.js';

/** A document as stored: under its `_id`, so without it. */
interface Stored {
  _rev: string;
  [field: string]: unknown;
}

/**
 * The embedded store's claim book: a LevelDB of its own, one small entry per claim. Its files are
 * locked to this process, so compare-and-set is a read and a write with no other write between
 * them. (As PouchDB documents, a revision tree and a by-sequence entry each, a million-blob
 * drain's claims filled 64 mapped LevelDB tables of their own: 63 MiB of the drain's RSS.)
 */
export class LevelClaimBook implements ClaimBook {
  private db: ClassicLevel<string, Stored> | undefined;
  /** Revisions are this book's opening and a count: never the same twice for one document. */
  private readonly opening = randomBytes(4).toString('hex');
  private revisions = 0;
  /** Writes and removals, one at a time. */
  private readonly writing = new OneAtATime();

  /**
   * `onWriteFailure` hears of every write LevelDB refused: after one, it may refuse all until
   * reopened. `sync`: each write is on disk (fsynced) before it resolves, as the store's own
   * writes are: a drain whose claims a power loss took would hand its blobs to the next drain too.
   */
  constructor(
    readonly location: string,
    private readonly onWriteFailure: (error: unknown) => void = () => undefined,
    private readonly sync = false,
  ) {}

  async open(): Promise<void> {
    if (this.db) return;
    // LevelDB memory-maps the tables it holds open, and a drain reads claims all over the book: its least
    // open files (74) of 512 KiB tables bound that to ~32 MiB of RSS (the defaults let a million claims map 80+ MiB).
    // A drain reads each claim a few times, far apart: a block cache would hold none of them long enough to help.
    const db = new ClassicLevel<string, Stored>(this.location, {
      valueEncoding: 'json',
      maxOpenFiles: 74,
      maxFileSize: 512 * 1024,
      cacheSize: 1024 * 1024,
      writeBufferSize: 2 * 1024 * 1024,
    });
    await db.open();
    this.db = db;
  }

  async close(): Promise<void> {
    await this.writing.idle();
    const db = this.db;
    this.db = undefined;
    await db?.close();
  }

  /** Compacts the whole book, so that the claims a commit deleted leave the disk (compaction.ts); no-op when closed. */
  async compact(): Promise<void> {
    await this.db?.compactRange('\u0000', '\uffff');
  }

  async fetch(ids: readonly string[]): Promise<Map<string, ClaimDoc>> {
    const found = new Map<string, ClaimDoc>();
    if (ids.length === 0) return found;
    const docs = await this.run('reading claims', (db) => db.getMany([...ids]));
    docs.forEach((doc, i) => {
      if (doc) found.set(ids[i]!, { _id: ids[i]!, ...doc });
    });
    return found;
  }

  write(docs: readonly ClaimDoc[]): Promise<boolean[]> {
    return this.serialized('writing claims', async (db) => {
      const current = await this.current(db, docs);
      const puts: { type: 'put'; key: string; value: Stored }[] = [];
      const written = docs.map(({ _id, _rev, ...fields }) => {
        if (current.get(_id)?._rev !== _rev) return false;
        const next = { ...fields, _rev: `${this.opening}-${++this.revisions}` };
        current.set(_id, next); // the same id again in this call must name this revision
        puts.push({ type: 'put', key: _id, value: next });
        return true;
      });
      if (puts.length > 0) await this.batch(db, puts);
      return written;
    });
  }

  remove(docs: readonly { _id: string; _rev: string }[]): Promise<void> {
    return this.serialized('removing claims', async (db) => {
      const current = await this.current(db, docs);
      const gone = docs.filter((doc) => current.get(doc._id)?._rev === doc._rev).map((doc) => ({ type: 'del' as const, key: doc._id }));
      if (gone.length > 0) await this.batch(db, gone);
    });
  }

  /** A write that stores nothing (an entry put and deleted at once): whether LevelDB takes writes. */
  probe(): Promise<void> {
    const key = '\u0000probe'; // claims are keyed by blob ids, which never start with a control character
    return this.serialized('probing', (db) =>
      this.batch(db, [
        { type: 'put', key, value: { _rev: '' } },
        { type: 'del', key },
      ]),
    );
  }

  private async batch(db: ClassicLevel<string, Stored>, operations: BatchOperation<ClassicLevel<string, Stored>, string, Stored>[]): Promise<void> {
    // a chained batch: the array form checks and copies each operation, ~4× the CPU (a million-blob drain spent 11 % of its CPU there)
    const batch = db.batch();
    try {
      for (const operation of operations) {
        if (operation.type === 'put') batch.put(operation.key, operation.value);
        else batch.del(operation.key);
      }
      await batch.write({ sync: this.sync });
    } catch (error) {
      await batch.close().catch(() => undefined); // one that failed before its write still holds native memory
      this.onWriteFailure(error);
      throw new StoreUnavailableError(`the claim book at ${this.location} could not write: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async current(db: ClassicLevel<string, Stored>, docs: readonly { _id: string }[]): Promise<Map<string, Stored>> {
    const ids = docs.map((doc) => doc._id);
    const stored = await db.getMany(ids);
    return new Map(ids.flatMap((id, i) => (stored[i] ? [[id, stored[i]] as const] : [])));
  }

  private serialized<T>(what: string, step: (db: ClassicLevel<string, Stored>) => Promise<T>): Promise<T> {
    return this.writing.run(() => this.run(what, step));
  }

  private async run<T>(what: string, operation: (db: ClassicLevel<string, Stored>) => Promise<T>): Promise<T> {
    const { db } = this;
    // closed: being reopened after a failed write (see WriteRecovery), or not opened yet
    if (!db) throw new StoreUnavailableError(`the claim book at ${this.location} is not open (while ${what})`);
    try {
      return await operation(db);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreError(`the claim book at ${this.location} failed while ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
