import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import {
  bulkSave,
  designDocument,
  designIsCurrent,
  DESIGN_NAME,
  pageBlobs,
  pageParams,
  VIEW_NAME,
  withoutRev,
  type BulkDoc,
  type BulkEntry,
} from './couch-view.js';
import { StoreError, type KpiBlob, type RangeCursor, type RangeQuery, type SaveResult, type Store, type StoredBlob } from './store.js';

export interface PouchDbStoreOptions {
  /** Folder of the LevelDB files; created if missing (PouchDB will not create its parent). */
  dataDir: string;
  dbName: string;
  groupCommit: GroupCommitOptions;
}

type DesignDoc = { views?: Record<string, { map?: string; reduce?: string }> };
type StoredDoc = Record<string, unknown> & { _id: string; _rev: string };

const VIEW = `${DESIGN_NAME}/${VIEW_NAME}`;

function statusOf(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

/** Embedded PouchDB on LevelDB: the zero-setup, persistent default. */
export class PouchDbStore implements Store {
  readonly backend = 'pouchdb';
  private db: PouchDB.Database | undefined;
  private readonly writer: GroupCommit<BulkDoc, BulkEntry>;

  constructor(private readonly options: PouchDbStoreOptions) {
    this.writer = new GroupCommit((docs) => this.bulkWrite(docs), options.groupCommit);
  }

  get location(): string {
    return path.join(this.options.dataDir, this.options.dbName);
  }

  async open(): Promise<void> {
    if (this.db) return;
    await mkdir(path.dirname(this.location), { recursive: true });
    const db = new PouchDB(this.location);
    const stored = await db.get<DesignDoc>(designDocument._id).catch((error: unknown) => {
      if (statusOf(error) === 404) return undefined;
      throw error;
    });
    if (!designIsCurrent(stored)) {
      await db.put({ ...designDocument, ...(stored && { _rev: stored._rev }) });
    }
    this.db = db;
  }

  async save(blobs: readonly KpiBlob[]): Promise<SaveResult> {
    return bulkSave(this.writer, blobs, this.backend);
  }

  async get(id: string): Promise<StoredBlob | undefined> {
    try {
      return withoutRev(await this.database().get<StoredDoc>(id)) as StoredBlob;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.translate(error, `reading blob ${id}`);
    }
  }

  async page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    try {
      const result = await this.database().query(VIEW, pageParams(query, after, size));
      return pageBlobs(result.rows as { id: string; doc?: Record<string, unknown> | null }[], after, size);
    } catch (error) {
      throw this.translate(error, 'reading a range');
    }
  }

  async count(): Promise<number> {
    try {
      const result = await this.database().query(VIEW, { reduce: true });
      return (result.rows[0]?.value as number | undefined) ?? 0;
    } catch (error) {
      throw this.translate(error, 'counting blobs');
    }
  }

  async ping(): Promise<void> {
    await this.database().info();
  }

  async close(): Promise<void> {
    await this.writer.drain();
    const db = this.db;
    this.db = undefined;
    await db?.close();
  }

  private async bulkWrite(docs: BulkDoc[]): Promise<BulkEntry[]> {
    try {
      const results = await this.database().bulkDocs(docs);
      return results.map((r) => ('ok' in r ? { ok: true, id: r.id } : { id: r.id, error: r.name ?? r.error?.toString(), reason: r.message }));
    } catch (error) {
      throw this.translate(error, `writing ${docs.length} blobs`);
    }
  }

  private database(): PouchDB.Database {
    if (!this.db) throw new StoreError(`PouchDB at ${this.location} is not open`);
    return this.db;
  }

  private translate(error: unknown, what: string): Error {
    if (error instanceof StoreError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new StoreError(`PouchDB at ${this.location} failed while ${what}: ${message}`);
  }
}
