import nano from 'nano';
import type { CouchConnection } from './connection.js';
import { DocumentClaimBook } from './claim-book.js';
import { GroupCommit, type GroupCommitOptions } from '../group-commit.js';
import { newBlobId, withIds } from '../ids.js';
import {
  designDocument,
  designIsCurrent,
  legacyDesignDocument,
  type DesignDocument,
  DESIGN_NAME,
  pageBlobs,
  pageParams,
  VIEW_NAME,
  withoutRev,
  type ViewRow,
} from './couch-view.js';
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
  type SaveResult,
  type Store,
  type StoredBlob,
} from '../store.js';

/** A CouchDB update sequence: a number (1.x, PouchDB Server), or `N-<base64url>` (2+). */
const SEQ = /^\d+(-[\w-]+)?$/;

interface CouchDbStoreOptions {
  connection: CouchConnection;
  dbName: string;
  groupCommit: GroupCommitOptions;
  /** A CouchDB request slower than this fails as "unavailable" instead of hanging its client. */
  timeoutMs: number;
  /** Also keep the original's `_design/data` (views `all`, `count`) for tooling that reads the database. */
  legacyViews?: boolean | undefined;
  /**
   * `w` of each `_bulk_docs`: the copies that must have a write before CouchDB answers. On a
   * cluster (q=2, n=3, 3.4.3, loopback) with CouchDB's default of 2, a range read right after
   * 1,000 acknowledged writes returned [] (the view was read from the copy that had none yet);
   * with w=3 the store tests' range reads passed in every run.
   */
  writeQuorum?: number | undefined;
}

type Request = nano.RequestOptions & { signal?: AbortSignal };
type BulkDoc = KpiBlob & { _id: string };

interface ChangesRow {
  seq: string | number;
  id: string;
  changes: { rev: string }[];
  deleted?: boolean;
  doc?: Record<string, unknown> | null;
}

/** One entry of a `_bulk_docs` answer (CouchDB answers 201 even when some entries failed). */
interface BulkEntry {
  ok?: boolean;
  error?: string;
  reason?: string;
}

const VIEW_PATH = `_design/${DESIGN_NAME}/_view/${VIEW_NAME}`;

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** Apache CouchDB 3 (or anything speaking its HTTP API) through nano. */
export class CouchDbStore implements Store {
  readonly backend = 'couchdb';
  private readonly server: nano.ServerScope;
  private readonly writer: GroupCommit<BulkDoc, BulkEntry>;
  private opening: Promise<void> | undefined;
  /** Claims live in `<DB_NAME>-claims`: blobs, their view and their changes stay blobs only. */
  readonly claims = new DocumentClaimBook(
    async (keys) => {
      await this.open();
      return this.call('reading claims', { db: this.claimDbName, method: 'POST', path: '_all_docs', qs: { include_docs: true }, body: { keys } });
    },
    async (docs) => {
      await this.open();
      return this.call('writing claims', { db: this.claimDbName, method: 'POST', path: '_bulk_docs', body: { docs } });
    },
    'CouchDB',
  );

  private get claimDbName(): string {
    return `${this.options.dbName}-claims`;
  }

  constructor(private readonly options: CouchDbStoreOptions) {
    const { url, username, password } = options.connection;
    // Credentials go in a header, never in a URL that an error message could quote.
    const anonymous = username === '' && password === '';
    const headers = anonymous ? {} : { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    this.server = nano({ url, headers });
    this.writer = new GroupCommit((docs) => this.bulkWrite(docs), options.groupCommit);
  }

  /** Creates the database and design document if missing; retried by the next call after a failure. */
  open(): Promise<void> {
    this.opening ??= this.setUp().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  /**
   * Ids are given first, so the answer names every blob; a conflict means a chosen `_id` was
   * already stored. A generated id that conflicts (someone chose it first: it cannot be guessed,
   * so this is a defence only) is written again under a new one, never reported as existing.
   */
  async save(blobs: readonly KpiBlob[]): Promise<SaveResult> {
    await this.open();
    const docs = withIds(blobs);
    const existing: string[] = [];
    let pending = docs.map((_, i) => i);
    while (pending.length > 0) {
      const entries = await this.writer.submit(pending.map((i) => docs[i]!));
      const again: number[] = [];
      pending.forEach((i, k) => {
        const entry = entries[k];
        const { _id } = docs[i]!;
        if (entry?.ok) return;
        if (entry?.error !== 'conflict') throw new StoreError(`CouchDB did not store blob ${_id}: ${entry?.error ?? 'no answer'}${entry?.reason ? `: ${entry.reason}` : ''}`);
        if (blobs[i]!._id !== undefined) existing.push(_id);
        else {
          docs[i] = { ...docs[i]!, _id: newBlobId() };
          again.push(i);
        }
      });
      pending = again;
    }
    return { ids: docs.map((d) => d._id), existing };
  }

  async get(id: string): Promise<StoredBlob | undefined> {
    await this.open();
    try {
      return withoutRev(await this.call(`reading blob ${id}`, { doc: id })) as StoredBlob;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    await this.open();
    const blobs: StoredBlob[] = [];
    let cursor = after;
    while (blobs.length < size) {
      const result: { rows: ViewRow[] } = await this.call('reading a range', { path: VIEW_PATH, qs: pageParams(query, cursor, size - blobs.length) });
      const page = pageBlobs(result.rows, cursor, size - blobs.length);
      blobs.push(...page.blobs);
      // a short page ends a range: blobs removed meanwhile must not end it early
      if (!page.next) break;
      cursor = page.next;
    }
    return blobs;
  }

  async count(): Promise<number> {
    await this.open();
    const result: { rows: { value: number }[] } = await this.call('counting blobs', { path: VIEW_PATH, qs: { reduce: true } });
    return result.rows[0]?.value ?? 0;
  }

  async remove(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    await this.open();
    const found: { rows: { id?: string; value?: { rev: string; deleted?: boolean } }[] } = await this.call(`finding ${ids.length} blobs`, {
      method: 'POST',
      path: '_all_docs',
      body: { keys: ids.filter((id) => !id.startsWith('_')) },
    });
    const docs = found.rows.flatMap((row) => (row.id && row.value && !row.value.deleted ? [{ _id: row.id, _rev: row.value.rev, _deleted: true as const }] : []));
    if (docs.length === 0) return 0;
    const entries = await this.bulkWrite(docs);
    // A conflict means another instance removed or changed it first: not ours to count.
    const failed = entries.find((entry) => !entry.ok && entry.error !== 'conflict');
    if (failed) throw new StoreError(`CouchDB did not remove a blob: ${failed.error}${failed.reason ? `: ${failed.reason}` : ''}`);
    return entries.filter((entry) => entry.ok).length;
  }

  async changes(since: string, { limit, waitMs }: ChangesOptions): Promise<ChangesBatch> {
    // CouchDB 2+ answers 400 to a malformed since, but PouchDB Server reads one as 0 (replaying everything)
    if (!SEQ.test(since)) throw new InvalidSeqError(`CouchDB has no sequence ${JSON.stringify(since)}`);
    await this.open();
    const read = async (): Promise<{ results: ChangesRow[]; last_seq: string | number }> => {
      try {
        return await this.call('reading changes', { path: '_changes', qs: { since, limit, include_docs: true } });
      } catch (error) {
        if (statusOf(error) === 400) throw new InvalidSeqError(`CouchDB cannot read changes since ${JSON.stringify(since)}`);
        throw error;
      }
    };
    let result = await read();
    // Only an empty answer proves there was nothing after `since` when it was asked: a short page
    // does not (PouchDB may answer fewer rows than `limit` while more exist).
    const complete = result.results.length === 0;
    if (complete) await this.sinceHeld(since);
    if (complete && waitMs > 0) {
      await this.waitForChange(since, waitMs);
      result = await read();
    }
    const changes: Change[] = [];
    for (const row of result.results) {
      if (row.id.startsWith('_')) continue; // the design document is not a blob
      changes.push({
        seq: String(row.seq),
        id: row.id,
        rev: row.changes[0]?.rev ?? '',
        deleted: row.deleted === true,
        doc: row.deleted || !row.doc ? undefined : (withoutRev(row.doc) as StoredBlob),
      });
    }
    return { changes, lastSeq: String(result.last_seq), complete };
  }

  /**
   * Rejects an integer `since` past the database's `update_seq` (PouchDB Server, CouchDB 1.x):
   * they answer it with nothing and echo it back, so a consumer resuming against a rebuilt
   * database would wait, live, forever. CouchDB 2+'s sequences are opaque (`"12-g1AAAA…"`) and
   * cannot be compared: there a malformed one is CouchDB's 400, and one of another database is
   * not detected. Asked only when a read came back empty, so a busy feed pays nothing for it.
   */
  private async sinceHeld(since: string): Promise<void> {
    if (!/^\d+$/.test(since)) return;
    const end = await this.currentSeq();
    if (/^\d+$/.test(end) && Number(since) > Number(end)) {
      throw new InvalidSeqError(`CouchDB has no sequence ${since}: its newest is ${end}`);
    }
  }

  /**
   * Waits (a longpoll) until a change after `since` exists, or `waitMs` passed. Only a wake-up:
   * its answer is not used, because PouchDB Server's longpoll answers with one change and a
   * `last_seq` that may not be safe to resume from; the normal read that follows is.
   * PouchDB Server also ignores `timeout`, so the wait is ended from this side too.
   */
  private async waitForChange(since: string, waitMs: number): Promise<void> {
    const waited = AbortSignal.timeout(waitMs + 500);
    try {
      await this.call('waiting for changes', { path: '_changes', qs: { since, limit: 1, feed: 'longpoll', timeout: waitMs }, signal: waited });
    } catch (error) {
      if (!waited.aborted) throw error;
    }
  }

  async currentSeq(): Promise<string> {
    await this.open();
    const info: { update_seq: string | number } = await this.call('reading the newest sequence', {});
    return String(info.update_seq);
  }

  async ping(): Promise<void> {
    await this.open();
    await this.call('checking the database', {});
  }

  async close(): Promise<void> {
    await this.writer.drain();
  }

  private async setUp(): Promise<void> {
    try {
      await this.call('checking the database', {});
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.tolerate(412, this.call('creating the database', { method: 'PUT' }));
    }
    try {
      await this.call('checking the claims database', { db: this.claimDbName });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.tolerate(412, this.call('creating the claims database', { db: this.claimDbName, method: 'PUT' }));
    }
    await this.ensureDesign(designDocument);
    if (this.options.legacyViews) await this.ensureDesign(legacyDesignDocument);
  }

  /** Writes the design document unless it is stored as defined already. */
  private async ensureDesign(design: DesignDocument): Promise<void> {
    const stored = await this.call<{ _rev: string; views?: Record<string, { map?: string; reduce?: string }> }>(`reading the design document ${design._id}`, {
      doc: design._id,
    }).catch((error: unknown) => {
      if (statusOf(error) === 404) return undefined;
      throw error;
    });
    if (designIsCurrent(design, stored)) return;
    const body = stored ? { ...design, _rev: stored._rev } : design;
    // 409: another instance wrote it first, which is just as good.
    await this.tolerate(409, this.call(`writing the design document ${design._id}`, { method: 'PUT', doc: design._id, body }));
  }

  private async bulkWrite(docs: (BulkDoc | { _id: string; _rev: string; _deleted: true })[]): Promise<BulkEntry[]> {
    const entries: BulkEntry[] = await this.call(`writing ${docs.length} blobs`, {
      method: 'POST',
      path: '_bulk_docs',
      ...(this.options.writeQuorum === undefined ? {} : { qs: { w: this.options.writeQuorum } }),
      body: { docs },
    });
    if (entries.length !== docs.length) {
      throw new StoreError(`CouchDB answered ${entries.length} results for ${docs.length} documents in _bulk_docs`);
    }
    return entries;
  }

  private async tolerate(status: number, request: Promise<unknown>): Promise<void> {
    try {
      await request;
    } catch (error) {
      if (statusOf(error) !== status) throw error;
    }
  }

  /** One CouchDB request on our database, with a timeout; failures become Store errors. */
  private async call<T>(what: string, request: Request): Promise<T> {
    try {
      const timeout = AbortSignal.timeout(this.options.timeoutMs);
      const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
      const withSignal: Request = { db: this.options.dbName, ...request, signal };
      return (await this.server.request(withSignal)) as T;
    } catch (error) {
      throw this.translate(error, what);
    }
  }

  private translate(error: unknown, what: string): Error {
    const status = statusOf(error);
    const message = error instanceof Error ? error.message : String(error);
    const where = `CouchDB at ${this.options.connection.url} (database "${this.options.dbName}")`;
    let translated: Error & { statusCode?: number };
    if (status === undefined || status >= 500) {
      translated = new StoreUnavailableError(`${where} is unavailable while ${what}: ${message}`);
    } else if (status === 401 || status === 403) {
      translated = new StoreError(`${where} refused ${what} for user "${this.options.connection.username}" (HTTP ${status}): check DB_USER/DB_PASS or COUCHDB_URL`);
    } else {
      translated = new StoreError(`${where} answered HTTP ${status} while ${what}: ${message}`);
    }
    translated.statusCode = status;
    return translated;
  }
}
