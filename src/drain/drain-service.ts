import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { rangeRowPages } from '../store/range.js';
import { readAhead } from './read-ahead.js';
import type { ClaimDoc, RangeQuery, RangeRow, Store, StoredBlob } from '../store/store.js';

/** The range a drain claims: a range's bounds (a drain takes all of it, in the store's order). */
type DrainRange = Pick<RangeQuery, 'start' | 'end'>;

/** What a drain took: the blobs with `start ≤ timestamp ≤ end` that it could claim. */
export interface DrainInfo {
  id: string;
  start?: number | undefined;
  end?: number | undefined;
  count: number;
  /** Unix ms; renewed while the drain is claimed, read or committed. After it, an uncommitted drain's blobs are drainable again. */
  expiresAt: number;
  state: DrainState;
}

/** Blobs of a drain's range that another drain held when it claimed them. */
export interface DrainHolder {
  drain: string;
  count: number;
  /** Unix ms: the holder's lease. A committing holder's commit is finished by the service after it. */
  until: number;
  committing: boolean;
}

/**
 * claiming → claimed → committing → committed, or claimed → released. A drain holds its blobs
 * while claiming or claimed and its lease runs; once committing, until the commit is finished
 * (a commit cut short is resumed, never undone: the analyst has the blobs).
 */
type DrainState = 'claiming' | 'claimed' | 'committing' | 'committed' | 'released';

/** `busy`: another service instance is committing it, until `until`. */
type DrainProblem = 'unknown' | 'committed' | 'expired' | 'released' | 'busy';

/** A drain that cannot be read, committed or released: unknown id, committed already, past its lease, let go, or busy elsewhere. */
export class DrainError extends Error {
  override readonly name = 'DrainError';
  constructor(
    readonly problem: DrainProblem,
    message: string,
    /** Unix ms: when to try again (`busy`). */
    readonly until?: number,
  ) {
    super(message);
  }
}

interface DrainDoc extends ClaimDoc, Omit<DrainInfo, 'id'> {
  /** The service instance committing it: another instance waits for the lease before taking over. */
  committer?: string | undefined;
}
/** A blob's claim names its drain only: the lease lives in the drain's one document, so renewing it is one write. */
interface Claim extends ClaimDoc {
  drain: string;
}

const drainKey = (id: string) => `d:${id}`;
const claimKey = (blobId: string) => `b:${blobId}`;

/** Whether a drain still holds the blobs it claimed. */
function holds(drain: DrainDoc, now: number): boolean {
  if (drain.state === 'committing') return true;
  return (drain.state === 'claiming' || drain.state === 'claimed') && drain.expiresAt > now;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Smashing the piggybank: claim → stream → commit, on any store. Claims are compare-and-set
 * documents in the store's claim book (on CouchDB, revision conflicts), so two drains never
 * share a blob, even from two service instances on one database. Nothing is deleted before
 * commit. A drain's lease is renewed while it is claimed, read or committed; one left alone for
 * the lease expires, and its blobs can be claimed again (at once, if it is released). A commit
 * that has begun is finished, never undone: see `commit`.
 */
export class DrainService {
  private readonly renewEveryMs: number;
  /** This process, as the committer named in a drain's document. */
  private readonly instance = randomBytes(8).toString('hex');
  /** Commits running in this process: a second commit of one of them waits for it instead of being refused. */
  private readonly committing = new Map<string, Promise<{ removed: number }>>();

  constructor(
    private readonly store: Store,
    private readonly leaseMs: number,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    /** Unix ms now: leases are read against it (tests pass a clock they move, instead of waiting out a lease). */
    private readonly now: () => number = Date.now,
  ) {
    this.renewEveryMs = Math.min(leaseMs / 4, 30_000);
  }

  async begin(range: DrainRange): Promise<DrainInfo & { held: DrainHolder[] }> {
    const id = randomBytes(12).toString('hex');
    const doc: DrainDoc = { _id: drainKey(id), start: range.start, end: range.end, count: 0, expiresAt: this.now() + this.leaseMs, state: 'claiming' };
    await this.store.claims.write([doc]);
    const renew = this.renewal(id, 'claiming');
    /** Other drains met among the claims: each one's hold when first seen, or undefined if it held none (one that lets go later is left alone: conservative). */
    const others = new Map<string, DrainHolder | undefined>();
    let count = 0;
    // Blobs keep arriving while a drain claims: it looks at no more blobs than the store held when
    // it started, so it ends; what it did not reach stays for the next drain.
    let toVisit = await this.store.count();
    for await (const { page, held } of readAhead(this.pagesWithClaims(range))) {
      if (toVisit <= 0) break;
      toVisit -= page.length;
      await this.learnHolders(
        [...held.values()].map((claim) => (claim as Claim).drain),
        others,
      );
      const wanted: Claim[] = [];
      for (const row of page) {
        const claim = held.get(claimKey(row.id)) as Claim | undefined;
        const holder = claim && others.get(claim.drain);
        if (holder) {
          holder.count++; // another drain holds it
          continue;
        }
        wanted.push({ _id: claimKey(row.id), _rev: claim?._rev, drain: id });
      }
      count += (await this.store.claims.write(wanted)).filter(Boolean).length;
      await renew();
    }
    const claimed = await this.update(id, ['claiming'], (current) => ({ ...current, count, state: 'claimed', expiresAt: this.now() + this.leaseMs }));
    this.metrics.drains.inc({ event: 'started' });
    this.logger.info({ drain: id, count, start: range.start, end: range.end }, 'drain claimed its blobs');
    const held = [...others.values()].filter((holder): holder is DrainHolder => holder !== undefined && holder.count > 0);
    return { id, start: range.start, end: range.end, count, expiresAt: claimed.expiresAt, state: 'claimed', held };
  }

  /**
   * Lets go of a claimed drain's blobs without deleting any (the analyst could not save them), so
   * that the next drain takes them at once instead of after the lease. Refused once committing.
   */
  async release(id: string): Promise<{ released: number }> {
    const doc = await this.update(id, ['claimed'], (current) => ({ ...current, state: 'released' }));
    this.metrics.drains.inc({ event: 'released' });
    this.logger.info({ drain: id, released: doc.count }, 'drain released: its blobs are drainable again');
    return { released: doc.count };
  }

  /** Releases a drain whose claimer went away before it learnt the drain's id; a failure is logged, the lease ends it then. */
  async abandon(id: string): Promise<void> {
    await this.release(id).catch((error: unknown) => this.logger.warn({ drain: id, err: error }, 'could not release a drain whose claimer left; it expires with its lease'));
  }

  /** The drain, if it can still be read or committed; asking renews its lease. */
  async info(id: string): Promise<DrainInfo> {
    const doc = await this.update(id, ['claimed'], (current) => ({ ...current, expiresAt: this.now() + this.leaseMs }));
    return { id, start: doc.start, end: doc.end, count: doc.count, expiresAt: doc.expiresAt, state: doc.state };
  }

  /** The drain's blobs, page by page, in timestamp order (pages may be short: other blobs are skipped); reading renews the lease. */
  async *blobs(drain: DrainInfo): AsyncGenerator<StoredBlob[]> {
    const renew = this.renewal(drain.id, 'claimed');
    for await (const ours of readAhead(this.claimedPages(drain))) {
      yield ours.rows.map((row) => JSON.parse(row.json) as StoredBlob);
      await renew();
    }
  }

  /**
   * Deletes the drain's blobs; once only. A commit cut short is resumed by committing again: at
   * once when it failed in this process (a second commit while it runs here waits for it), after
   * its lease when another instance was committing it (that one may be alive: busy until then).
   * Until finished its blobs stay held, so no other drain takes them; a claim that meets such a
   * drain past its lease finishes the commit itself (see `begin`).
   */
  commit(id: string): Promise<{ removed: number }> {
    const running = this.committing.get(id);
    if (running) return running;
    // Set before the first await, so two requests in one tick share one commit.
    const commit = this.runCommit(id).finally(() => this.committing.delete(id));
    this.committing.set(id, commit);
    return commit;
  }

  private async runCommit(id: string): Promise<{ removed: number }> {
    const doc = await this.update(id, ['claimed', 'committing'], (current) => {
      if (current.state === 'committing' && current.committer !== this.instance && current.expiresAt > this.now()) {
        throw new DrainError(
          'busy',
          `drain ${id} is being committed by another service instance; if that one died, its commit can be resumed after ${iso(current.expiresAt)}`,
          current.expiresAt,
        );
      }
      return { ...current, state: 'committing', committer: this.instance, expiresAt: this.now() + this.leaseMs };
    });
    const renew = this.renewal(id, 'committing');
    let removed = 0;
    // The next page is found while this one's blobs and claims are deleted (a page is only ever
    // read past the last one removed), and a page's claims are deleted while the next page's blobs
    // are: two databases, two fsyncs at once. A page's claims go only after its blobs, so that a
    // commit cut short never leaves a blob unclaimed.
    let claimsRemoved: Promise<void> = Promise.resolve();
    for await (const ours of readAhead(this.claimedPages({ id, ...doc }))) {
      removed += await this.store.remove(ours.rows.map((row) => row.id));
      await claimsRemoved;
      claimsRemoved = this.store.claims.remove(ours.claims);
      claimsRemoved.catch(() => undefined); // awaited at the next page or below: no unhandled rejection meanwhile
      await renew();
    }
    await claimsRemoved;
    await this.update(id, ['committing'], (current) => ({ ...current, state: 'committed' }));
    this.metrics.drains.inc({ event: 'committed' });
    this.metrics.blobsDrained.inc(removed);
    this.logger.info({ drain: id, removed }, 'drain committed: its blobs are deleted');
    return { removed };
  }

  /**
   * Rewrites the drain's document, compare-and-set, if it is in one of the `allowed` states and
   * (but for committing) within its lease; retried when another request changed it meanwhile.
   */
  private async update(id: string, allowed: readonly DrainState[], change: (current: DrainDoc) => DrainDoc): Promise<DrainDoc> {
    for (;;) {
      const current = (await this.store.claims.fetch([drainKey(id)])).get(drainKey(id)) as DrainDoc | undefined;
      if (!current || (current.state === 'claiming' && !allowed.includes('claiming'))) throw new DrainError('unknown', `no drain has the id ${JSON.stringify(id)}`);
      if (current.state === 'committed') throw new DrainError('committed', `drain ${id} is committed already: its blobs are gone`);
      if (current.state === 'committing' && !allowed.includes('committing')) {
        throw new DrainError('committed', `drain ${id} is being committed: it can no longer be read or released; commit it again to finish the commit`);
      }
      if (current.state === 'released') throw new DrainError('released', `drain ${id} was released: it holds no blobs and deleted none; start a new drain`);
      if (current.state !== 'committing' && current.expiresAt <= this.now()) {
        this.metrics.drains.inc({ event: 'expired' });
        throw new DrainError('expired', `drain ${id} expired at ${iso(current.expiresAt)}: its blobs are drainable again; start a new drain`);
      }
      const next = change(current);
      const [written] = await this.store.claims.write([next]);
      if (written) return next;
    }
  }

  /** A function that renews the drain's lease when a quarter of it (at most 30 s) has passed since the last renewal. */
  private renewal(id: string, state: DrainState): () => Promise<void> {
    let renewedAt = this.now();
    return async () => {
      if (this.now() - renewedAt < this.renewEveryMs) return;
      renewedAt = this.now();
      await this.update(id, [state], (current) => ({ ...current, expiresAt: this.now() + this.leaseMs }));
    };
  }

  /**
   * Adds, for each drain not seen yet, its hold on its claims now (undefined: none). A committing
   * drain past its lease was left half-committed (its committer died or gave up): it is finished
   * here, in the background, so that its blobs are not held for ever by a commit nobody resumes.
   */
  private async learnHolders(drains: readonly string[], known: Map<string, DrainHolder | undefined>): Promise<void> {
    const unseen = [...new Set(drains)].filter((drain) => !known.has(drain));
    if (unseen.length === 0) return;
    const docs = await this.store.claims.fetch(unseen.map(drainKey));
    const now = this.now();
    for (const drain of unseen) {
      const doc = docs.get(drainKey(drain)) as DrainDoc | undefined;
      if (!doc || !holds(doc, now)) {
        known.set(drain, undefined);
        continue;
      }
      const committing = doc.state === 'committing';
      if (committing && doc.expiresAt <= now && !this.committing.has(drain)) this.finish(drain);
      known.set(drain, { drain, count: 0, until: doc.expiresAt, committing });
    }
  }

  /** Finishes a commit left half-done, in the background. */
  private finish(id: string): void {
    this.logger.warn({ drain: id }, 'a drain was left half-committed past its lease: finishing its commit');
    this.commit(id).catch((error: unknown) =>
      this.logger.warn({ drain: id, err: error }, 'could not finish the commit of a drain left half-committed; the next claim that meets it tries again'),
    );
  }

  /**
   * The range's pages, each with the claims its blobs have now. Rows, not blobs: claiming and
   * committing need only ids, so a store that keeps JSON text (leveldb) parses none of it.
   */
  private async *pagesWithClaims(range: DrainRange): AsyncGenerator<{ page: RangeRow[]; held: Map<string, ClaimDoc> }> {
    for await (const page of rangeRowPages(this.store, range)) yield { page, held: await this.store.claims.fetch(page.map((row) => claimKey(row.id))) };
  }

  /** Walks the drain's range for its claimed blobs; stops once it found them all, however much arrived since. */
  private async *claimedPages(drain: DrainInfo): AsyncGenerator<{ rows: RangeRow[]; claims: { _id: string; _rev: string }[] }> {
    let missing = drain.count;
    for await (const page of rangeRowPages(this.store, { start: drain.start, end: drain.end })) {
      if (missing <= 0) return;
      const ours = await this.ours(drain.id, page);
      missing -= ours.rows.length;
      if (ours.rows.length > 0) yield ours;
    }
  }

  private async ours(id: string, page: RangeRow[]): Promise<{ rows: RangeRow[]; claims: { _id: string; _rev: string }[] }> {
    const held = await this.store.claims.fetch(page.map((row) => claimKey(row.id)));
    const rows: RangeRow[] = [];
    const claims: { _id: string; _rev: string }[] = [];
    for (const row of page) {
      const claim = held.get(claimKey(row.id)) as Claim | undefined;
      if (claim?.drain !== id) continue;
      rows.push(row);
      claims.push({ _id: claim._id, _rev: claim._rev! });
    }
    return { rows, claims };
  }
}
