import { backoffDelay, type ChangeMessage } from 'kpiggybank-client/wire';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { InvalidSeqError, type Change, type ChangesBatch, type Store } from '../store/store.js';
import type { FeedSink } from './sink.js';
import { orderOf, Subscription, tick, type FeedMessage } from './subscription.js';

export interface ChangeHubOptions {
  /** Most changes read from the store at once. */
  batchSize: number;
  /** How long one upstream read waits for a change before it returns empty (a heartbeat). */
  waitMs: number;
  /** Bound of each subscriber's send queue, in bytes. */
  maxQueueBytes: number;
  /**
   * After fanning out a batch, wait this long before the next read, so that under load a batch
   * holds several changes: each subscriber then costs one socket write per batch, not per change.
   */
  lingerMs: number;
}

type FollowerState = 'starting' | 'following' | 'reconnecting' | 'stopped';

export interface FeedStatus {
  state: FollowerState;
  /** The newest `seq` fanned out, or null before the store first answered. */
  seq: string | null;
  subscribers: number;
  /**
   * Seconds since the store last answered the follower (changes, or an empty heartbeat). On an
   * idle store it climbs to about `heartbeatSeconds` and falls back to 0: only well beyond that
   * is the store slow to answer. (It was `lagSeconds`, which an idle store's 1–2 s made read as
   * a fault.)
   */
  lastContactSeconds: number;
  /** How long an idle read of the store waits before it returns empty (FEED_HEARTBEAT_MS). */
  heartbeatSeconds: number;
}

/** The hub's clock and waits: real time in the service; a test passes its own to see the follower's backoff without waiting it out. */
interface HubTime {
  /** Unix ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

interface HistoryRead {
  issuedAt: number;
  batch: Promise<ChangesBatch>;
}

const REAL_TIME: HubTime = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
/** The follower's wait after its n-th failure in a row: 100 ms doubling to 5 s, no jitter (one follower per process). */
const backoff = (failures: number) => backoffDelay({ firstMs: 100, maxMs: 5_000, jitter: 'none' }, failures - 1);
const messageFor = (change: Change): FeedMessage => ({ key: `${change.id}\n${change.rev}`, data: messageOf(change), order: orderOf(change.seq) });

function messageOf(change: Change): Buffer {
  // the blob as the store keeps it (leveldb): the same bytes JSON.stringify gives for the message below, without parsing it back first
  if (!change.deleted && change.json !== undefined)
    return Buffer.from(`{"type":"change","seq":${JSON.stringify(change.seq)},"id":${JSON.stringify(change.id)},"doc":${change.json}}`);
  const message: ChangeMessage = change.deleted
    ? { type: 'change', seq: change.seq, id: change.id, deleted: true, doc: { _id: change.id, _deleted: true } }
    : { type: 'change', seq: change.seq, id: change.id, doc: change.doc ?? { _id: change.id, timestamp: 0 } };
  return Buffer.from(JSON.stringify(message));
}

/**
 * The one follower of the store's change feed in this process, fanned out to every subscriber.
 *
 * Resuming from `since` without gap or duplicate, with opaque sequences: a subscriber is
 * registered first (live changes queue for it), then reads history from `since` until a read
 * that was *issued after* registration (and after any overflow of its queue) comes back
 * complete. That read covers every change that existed when it was issued; the live feed covers
 * every change after the follower's position, which was behind the store's end; so the two
 * together cover everything, and the overlap is removed by key (id and revision). A key sent
 * from history is remembered until a complete follower read issued after it comes back: from
 * then on the follower has passed it and cannot bring it again, so memory stays bounded.
 *
 * The follower may be behind `since` itself: a subscriber that read history past it, left and
 * came back. What it brings up to `since` the subscriber had already. Integer sequences (memory,
 * leveldb, PouchDB Server) tell those apart and they are dropped; CouchDB 2+'s opaque ones cannot,
 * so there such a subscriber may get a few changes at or before its `since` again.
 */
export class ChangeHub {
  private readonly subscriptions = new Set<Subscription>();
  private position: string | undefined;
  private state: FollowerState = 'starting';
  private lastContact: number;
  private stopped = false;
  private started = false;

  constructor(
    private readonly store: Store,
    private readonly options: ChangeHubOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly time: HubTime = REAL_TIME,
  ) {
    this.lastContact = time.now();
    metrics.observeFeed(() => this.status());
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.follow();
  }

  status(): FeedStatus {
    return {
      state: this.state,
      seq: this.position ?? null,
      subscribers: this.subscriptions.size,
      lastContactSeconds: (this.time.now() - this.lastContact) / 1000,
      heartbeatSeconds: this.options.waitMs / 1000,
    };
  }

  /** Starts a subscription: live at once for `since=now`, else after catching up from `since`. */
  subscribe(sink: FeedSink, since: string): Subscription {
    const { transport } = sink;
    const sent = this.metrics.feedMessagesSent.labels({ transport });
    const subscription = new Subscription(sink, since, this.options.maxQueueBytes, {
      sent: (count) => sent.inc(count),
      ended: (reason) => {
        this.subscriptions.delete(subscription);
        this.metrics.feedSubscribers.dec({ transport });
        if (reason === 'too_slow') {
          this.metrics.feedDropped.inc({ transport, reason });
          this.logger.warn({ transport }, 'change feed: subscriber dropped, too slow');
        }
      },
    });
    this.subscriptions.add(subscription);
    this.metrics.feedSubscribers.inc({ transport });
    if (since === 'now') subscription.goLive(this.position ?? null);
    else void this.catchUp(subscription, since);
    return subscription;
  }

  /**
   * Rejects a `since` the store cannot read (InvalidSeqError), by reading one change from it: the
   * legacy stream asks before its 200, which it cannot take back. Any other failure (the store is
   * down) is left to the subscription, which waits for the store as it always did.
   */
  async checkSince(since: string): Promise<void> {
    if (since === 'now') return;
    try {
      await this.store.changes(since, { limit: 1, waitMs: 0 });
    } catch (error) {
      if (error instanceof InvalidSeqError) throw error;
    }
  }

  /** Ends every subscription (clients may resume elsewhere with `since`) and stops following. */
  close(): void {
    this.stopped = true;
    this.state = 'stopped';
    for (const subscription of this.subscriptions) subscription.end('going_away', 'server shutting down: resume with since');
  }

  private async follow(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        this.position ??= await this.store.currentSeq();
        const issuedAt = tick();
        // with nobody listening, only the sequence is followed: the store need not read the blobs back
        const listening = this.subscriptions.size > 0;
        let batch = await this.store.changes(this.position, { limit: this.options.batchSize, waitMs: this.options.waitMs, docs: listening });
        if (this.stopped) return;
        // someone subscribed during a read without the blobs: the same changes again, with them
        if (!listening && this.subscriptions.size > 0) batch = await this.store.changes(this.position, { limit: this.options.batchSize, waitMs: 0 });
        if (this.stopped) return;
        this.lastContact = this.time.now();
        if (failures > 0) this.logger.info({ seq: this.position }, 'change feed: following the store again');
        failures = 0;
        this.state = 'following';
        // Encoding every change costs ingest ~8 % of its CPU on batches: only when someone listens.
        if (this.subscriptions.size > 0) {
          const messages = batch.changes.map(messageFor);
          for (const subscription of this.subscriptions) subscription.deliverAll(messages);
        }
        this.position = batch.lastSeq;
        if (batch.complete) for (const subscription of this.subscriptions) subscription.forgetBefore(issuedAt);
        if (batch.changes.length > 0 && this.options.lingerMs > 0) await this.time.sleep(this.options.lingerMs);
      } catch (error) {
        if (this.stopped) return;
        failures++;
        this.state = 'reconnecting';
        if (failures === 1) this.logger.warn({ err: error, seq: this.position ?? null }, 'change feed: the store is unavailable; retrying');
        await this.time.sleep(backoff(failures));
      }
    }
  }

  private async catchUp(subscription: Subscription, since: string): Promise<void> {
    let cursor = since;
    let failures = 0;
    let ahead: HistoryRead | undefined;
    while (!subscription.ended) {
      const read = ahead ?? this.readHistory(cursor);
      ahead = undefined;
      try {
        const batch = await read.batch;
        const readAt = tick();
        failures = 0;
        cursor = batch.lastSeq;
        // the next read goes out before this one is sent: the store reads while the socket writes
        // (one read after another left the client waiting on the store for a third of a replay)
        if (!batch.complete) ahead = this.readHistory(cursor);
        const messages = batch.changes.map(messageFor);
        // in parts that fit the subscriber's queue; live changes meanwhile queue or are skipped as during any read
        let sent = 0;
        do {
          sent = subscription.deliverAllFromHistory(messages, readAt, sent);
          await subscription.drained();
        } while (sent < messages.length && !subscription.ended);
        if (batch.complete && read.issuedAt > subscription.overflowedAt) break;
      } catch (error) {
        if (error instanceof InvalidSeqError) {
          subscription.end('invalid_since', `unknown since: ${since}`.slice(0, 120));
          return;
        }
        // The store is down: the subscriber stays connected and catches up when it is back.
        failures++;
        await this.time.sleep(backoff(failures));
      }
    }
    subscription.goLive(cursor);
  }

  /** A read of history from `since`, with the moment it was issued (what the hand-over to the live feed compares). */
  private readHistory(since: string): HistoryRead {
    const issuedAt = tick();
    const batch = this.store.changes(since, { limit: this.options.batchSize, waitMs: 0 });
    batch.catch(() => {}); // a read ahead that its subscription outlives is never awaited; an awaited one still rejects
    return { issuedAt, batch };
  }
}
