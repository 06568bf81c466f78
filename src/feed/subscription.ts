import type { EndReason, FeedSink } from './sink.js';

/**
 * A logical clock shared by the hub and its subscriptions: it orders "a read was issued" and
 * "a read returned" events, which is all the hand-over from history to the live feed needs
 * (sequences are compared only to drop what a subscriber had before it resumed: see ChangeHub).
 */
let clock = 0;
export const tick = (): number => ++clock;

/** A change as subscriptions take it: its key (id and revision, to tell duplicates), its bytes, and its sequence as a number when it is one. */
export interface FeedMessage {
  key: string;
  data: Buffer;
  order: number | undefined;
}

/** An integer sequence as a number (memory, leveldb, PouchDB Server); undefined for an opaque one (CouchDB 2+). */
export function orderOf(seq: string): number | undefined {
  return /^\d+$/.test(seq) ? Number(seq) : undefined;
}

interface SubscriptionHooks {
  /** `count` messages were written to the sink (told once a batch: a counter per message cost the fan-out ~2 % of its CPU). */
  sent(count: number): void;
  ended(reason: EndReason | 'closed'): void;
}

/**
 * One subscriber of the change hub. A subscriber resuming from `since` first reads history
 * from the store while live changes queue in `pending`; a change that arrives both ways is
 * sent once: history marks what it sent, the live feed skips those, and history takes what it
 * sends out of `pending`. See ChangeHub for why this loses nothing.
 */
export class Subscription {
  private state: 'catching_up' | 'live' | 'ended' = 'catching_up';
  private readonly pending = new Map<string, Buffer>();
  private pendingBytes = 0;
  /** Keys sent from history that the live feed may still bring, with the clock when their read returned. */
  private readonly sentFromHistory = new Map<string, number>();
  /** When `pending` last overflowed and was dropped: history must be read again past this moment. */
  overflowedAt = 0;
  /** Messages sent since the hooks were last told. */
  private unreported = 0;
  /**
   * The subscriber's `since` as a number: live changes at or before it are ones the subscriber
   * had, brought by a follower that is behind where this subscriber's earlier connection read.
   */
  private readonly floor: number | undefined;

  constructor(
    readonly sink: FeedSink,
    since: string,
    private readonly maxQueueBytes: number,
    private readonly hooks: SubscriptionHooks,
  ) {
    this.floor = orderOf(since);
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  /** A batch of changes from the live feed (the same array for every subscription), written out together. */
  deliverAll(messages: readonly FeedMessage[]): void {
    if (messages.length === 0) return;
    if (this.takesAll(messages)) {
      this.sendBatch(messages);
      this.report();
      return;
    }
    this.sink.cork();
    for (const message of messages) this.deliver(message);
    this.sink.uncork();
    this.report();
  }

  /** Whether this subscription gets every message of a live batch: nothing to skip, nothing to queue. */
  private takesAll(messages: readonly FeedMessage[]): boolean {
    if (this.state !== 'live' || this.sentFromHistory.size > 0) return false;
    const floor = this.floor;
    return floor === undefined || messages.every(({ order }) => order === undefined || order > floor);
  }

  /** A change from the live feed. */
  private deliver({ key, data, order }: FeedMessage): void {
    if (this.state === 'ended' || this.sentFromHistory.has(key)) return;
    if (order !== undefined && this.floor !== undefined && order <= this.floor) return;
    if (this.state === 'live') {
      this.send(data);
      return;
    }
    this.pending.set(key, data);
    this.pendingBytes += data.length;
    if (this.pendingBytes > this.maxQueueBytes) {
      // History holds these changes too: drop them and let history read on past this moment.
      this.pending.clear();
      this.pendingBytes = 0;
      this.overflowedAt = tick();
    }
  }

  /**
   * Changes read from the store's history while catching up (`readAt`: when that read returned),
   * from `from` on, written out together until the sink's queue passes half its bound. Returns
   * where it stopped (`messages.length`: all sent); the caller waits for `drained()` and goes on
   * from there, so that a read of more bytes than the queue holds is not taken for a slow subscriber.
   */
  deliverAllFromHistory(messages: readonly FeedMessage[], readAt: number, from = 0): number {
    const half = this.maxQueueBytes / 2;
    let at = from;
    this.sink.cork();
    while (at < messages.length && this.state !== 'ended') {
      const { key, data } = messages[at++]!;
      this.deliverFromHistory(key, data, readAt);
      if (this.sink.queuedBytes() > half) break;
    }
    this.sink.uncork();
    this.report();
    return at;
  }

  private deliverFromHistory(key: string, data: Buffer, readAt: number): void {
    if (this.state === 'ended' || this.sentFromHistory.has(key)) return;
    const queued = this.pending.get(key);
    if (queued !== undefined) {
      this.pending.delete(key);
      this.pendingBytes -= queued.length;
    }
    this.sentFromHistory.set(key, readAt);
    this.send(data);
  }

  /** History is read to its end: tell the client, then send what queued meanwhile and go live. */
  goLive(seq: string | null): void {
    if (this.state !== 'catching_up') return;
    this.state = 'live';
    this.sink.live(seq);
    this.sink.cork();
    for (const data of this.pending.values()) this.send(data);
    this.sink.uncork();
    this.pending.clear();
    this.pendingBytes = 0;
    this.report();
  }

  /** The live feed has passed every change that existed at `clock`: history read before then cannot come again. */
  forgetBefore(at: number): void {
    for (const [key, readAt] of this.sentFromHistory) {
      if (readAt >= at) break; // insertion order is read order
      this.sentFromHistory.delete(key);
    }
  }

  /** Resolves once the sink's queue is below half its bound, or the subscription ended. */
  async drained(): Promise<void> {
    while (this.state !== 'ended' && this.sink.queuedBytes() > this.maxQueueBytes / 2) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  end(reason: EndReason | 'closed', message = ''): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.pending.clear();
    this.sentFromHistory.clear();
    if (reason !== 'closed') this.sink.end(reason, message);
    this.hooks.ended(reason);
  }

  private send(data: Buffer): void {
    if (!this.admits(data.length)) return;
    this.sink.send(data);
    this.unreported++;
  }

  private sendBatch(messages: readonly FeedMessage[]): void {
    let bytes = 0;
    for (const { data } of messages) bytes += data.length;
    if (!this.admits(bytes)) return;
    this.sink.sendBatch(messages);
    this.unreported += messages.length;
  }

  /** Whether `bytes` more may be queued for the subscriber; if not, the subscription ends (closed, or too slow). */
  private admits(bytes: number): boolean {
    if (this.sink.closed) {
      this.end('closed');
      return false;
    }
    if (this.sink.queuedBytes() + bytes > this.maxQueueBytes) {
      this.end('too_slow', `send queue over ${this.maxQueueBytes} bytes: resume with since`);
      return false;
    }
    return true;
  }

  private report(): void {
    if (this.unreported === 0) return;
    this.hooks.sent(this.unreported);
    this.unreported = 0;
  }
}
