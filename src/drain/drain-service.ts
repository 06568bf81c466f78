import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { rangePages } from '../store/range.js';
import type { ClaimDoc, Store, StoredBlob } from '../store/store.js';

/** What a drain took: the blobs with `start ≤ timestamp ≤ end` that it could claim. */
export interface DrainInfo {
  id: string;
  start?: number | undefined;
  end?: number | undefined;
  count: number;
  /** Unix ms; after it, an uncommitted drain's blobs are drainable again and it cannot be committed. */
  expiresAt: number;
  state: 'claimed' | 'committing' | 'committed';
}

export type DrainProblem = 'unknown' | 'committed' | 'expired';

/** A drain that cannot be read or committed: unknown id, committed already, or past its lease. */
export class DrainError extends Error {
  override readonly name = 'DrainError';
  constructor(
    readonly problem: DrainProblem,
    message: string,
  ) {
    super(message);
  }
}

interface DrainDoc extends ClaimDoc, Omit<DrainInfo, 'id'> {}
interface Claim extends ClaimDoc {
  drain: string;
  expiresAt: number;
}

const drainKey = (id: string) => `d:${id}`;
const claimKey = (blobId: string) => `b:${blobId}`;

/**
 * Smashing the piggybank: claim → stream → commit, on any store. Claims are compare-and-set
 * documents in the store's claim book (on CouchDB, revision conflicts), so two drains never
 * share a blob, even from two service instances on one database. Nothing is deleted before
 * commit; a drain never committed expires after its lease and its blobs can be claimed again.
 */
export class DrainService {
  constructor(
    private readonly store: Store,
    private readonly leaseMs: number,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  async begin(range: { start?: number | undefined; end?: number | undefined }): Promise<DrainInfo> {
    const id = randomBytes(12).toString('hex');
    const expiresAt = Date.now() + this.leaseMs;
    let count = 0;
    // Blobs keep arriving while a drain claims: it looks at no more blobs than the store held when
    // it started, so it ends; what it did not reach stays for the next drain.
    let toVisit = await this.store.count();
    for await (const page of rangePages(this.store, range)) {
      if (toVisit <= 0) break;
      toVisit -= page.length;
      const held = await this.store.claims.fetch(page.map((blob) => claimKey(blob._id)));
      const now = Date.now();
      const wanted: Claim[] = [];
      for (const blob of page) {
        const claim = held.get(claimKey(blob._id)) as Claim | undefined;
        if (claim && claim.expiresAt > now) continue; // another drain holds it
        wanted.push({ _id: claimKey(blob._id), _rev: claim?._rev, drain: id, expiresAt });
      }
      count += (await this.store.claims.write(wanted)).filter(Boolean).length;
    }
    const doc: DrainDoc = { _id: drainKey(id), start: range.start, end: range.end, count, expiresAt, state: 'claimed' };
    await this.store.claims.write([doc]);
    this.metrics.drains.inc({ event: 'started' });
    this.logger.info({ drain: id, count, start: range.start, end: range.end }, 'drain claimed its blobs');
    return { id, start: range.start, end: range.end, count, expiresAt, state: 'claimed' };
  }

  /** The drain, if it can still be read or committed. */
  async info(id: string): Promise<DrainInfo> {
    const doc = await this.record(id);
    return { id, start: doc.start, end: doc.end, count: doc.count, expiresAt: doc.expiresAt, state: doc.state };
  }

  /** The drain's blobs, page by page, in timestamp order (pages may be short: other blobs are skipped). */
  async *blobs(drain: DrainInfo): AsyncGenerator<StoredBlob[]> {
    for await (const ours of this.claimedPages(drain)) yield ours.blobs;
  }

  /** Deletes the drain's blobs; once only (a second commit, here or in another instance, is refused). */
  async commit(id: string): Promise<{ removed: number }> {
    const doc = await this.record(id);
    const drain: DrainInfo = { id, ...doc };
    const [won] = await this.store.claims.write([{ ...doc, state: 'committing' }]);
    if (!won) throw new DrainError('committed', `drain ${id} is being committed already`);
    let removed = 0;
    for await (const ours of this.claimedPages(drain)) {
      removed += await this.store.remove(ours.blobs.map((blob) => blob._id));
      await this.store.claims.remove(ours.claims);
    }
    const committing = (await this.store.claims.fetch([drainKey(id)])).get(drainKey(id)) as DrainDoc;
    await this.store.claims.write([{ ...committing, state: 'committed' }]);
    this.metrics.drains.inc({ event: 'committed' });
    this.metrics.blobsDrained.inc(removed);
    this.logger.info({ drain: id, removed }, 'drain committed: its blobs are deleted');
    return { removed };
  }

  /** The drain's record, with its revision; refused when unknown, committed or past its lease. */
  private async record(id: string): Promise<DrainDoc> {
    const doc = (await this.store.claims.fetch([drainKey(id)])).get(drainKey(id)) as DrainDoc | undefined;
    if (!doc) throw new DrainError('unknown', `no drain has the id ${JSON.stringify(id)}`);
    if (doc.state !== 'claimed') throw new DrainError('committed', `drain ${id} is committed already: its blobs are gone`);
    if (doc.expiresAt <= Date.now()) {
      this.metrics.drains.inc({ event: 'expired' });
      throw new DrainError('expired', `drain ${id} expired at ${new Date(doc.expiresAt).toISOString()}: its blobs are drainable again; start a new drain`);
    }
    return doc;
  }

  /** Walks the drain's range for its claimed blobs; stops once it found them all, however much arrived since. */
  private async *claimedPages(drain: DrainInfo): AsyncGenerator<{ blobs: StoredBlob[]; claims: { _id: string; _rev: string }[] }> {
    let missing = drain.count;
    for await (const page of rangePages(this.store, { start: drain.start, end: drain.end })) {
      if (missing <= 0) return;
      const ours = await this.ours(drain.id, page);
      missing -= ours.blobs.length;
      if (ours.blobs.length > 0) yield ours;
    }
  }

  private async ours(id: string, page: StoredBlob[]): Promise<{ blobs: StoredBlob[]; claims: { _id: string; _rev: string }[] }> {
    const held = await this.store.claims.fetch(page.map((blob) => claimKey(blob._id)));
    const blobs: StoredBlob[] = [];
    const claims: { _id: string; _rev: string }[] = [];
    for (const blob of page) {
      const claim = held.get(claimKey(blob._id)) as Claim | undefined;
      if (claim?.drain !== id) continue;
      blobs.push(blob);
      claims.push({ _id: claim._id, _rev: claim._rev! });
    }
    return { blobs, claims };
  }
}
