import type { ChangeMessage } from 'kpiggybank-client/wire';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeHub } from '../src/feed/change-hub.js';
import type { SharedBatch } from '../src/feed/shared-batch.js';
import type { FeedSink } from '../src/feed/sink.js';
import { Metrics } from '../src/observability/metrics.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { StoreUnavailableError, type ChangesBatch, type ChangesOptions } from '../src/store/store.js';
import { until } from './support/feed-client.js';

/** A sink that keeps what it is sent. */
class RecordingSink implements FeedSink {
  readonly transport = 'ws';
  closed = false;
  readonly changes: ChangeMessage[] = [];
  liveAt: string | null | undefined;
  send(data: Buffer): void {
    this.changes.push(JSON.parse(data.toString()) as ChangeMessage);
  }
  sendBatch(batch: SharedBatch): void {
    for (const { data } of batch) this.send(data);
  }
  live(seq: string | null): void {
    this.liveAt = seq;
  }
  queuedBytes(): number {
    return 0;
  }
  end(): void {
    this.closed = true;
  }
  cork(): void {}
  uncork(): void {}
}

/** A memory store whose follower reads (the ones that wait) are held until `release()`: a follower that lags. */
class LaggingStore extends MemoryStore {
  private held = true;
  private readonly waiting: (() => void)[] = [];
  release(): void {
    this.held = false;
    for (const resume of this.waiting.splice(0)) resume();
  }
  override async changes(since: string, options: ChangesOptions): Promise<ChangesBatch> {
    if (options.waitMs > 0 && this.held) await new Promise<void>((resume) => this.waiting.push(resume));
    return super.changes(since, options);
  }
}

/** A memory store whose next `failures` change reads fail as an unreachable store's do. */
class FlakyStore extends MemoryStore {
  failures = 0;
  override async changes(since: string, options: ChangesOptions): Promise<ChangesBatch> {
    if (this.failures > 0) {
      this.failures--;
      throw new StoreUnavailableError('the store is down');
    }
    return super.changes(since, options);
  }
}

/** The hub's time, moved by its own waits: each sleep is recorded with what the hub reported then, and returns at once. */
class FakeTime {
  ms = 1_000_000;
  readonly sleeps: { ms: number; state: string; lastContactSeconds: number }[] = [];
  hub: ChangeHub | undefined;
  readonly now = () => this.ms;
  readonly sleep = async (ms: number) => {
    const { state, lastContactSeconds } = this.hub!.status();
    this.sleeps.push({ ms, state, lastContactSeconds });
    this.ms += ms;
  };
}

describe('ChangeHub', () => {
  let hub: ChangeHub | undefined;
  afterEach(() => hub?.close());

  it('does not bring a resuming subscriber what it had before its since, when the follower is behind it', async () => {
    const store = new LaggingStore();
    hub = new ChangeHub(store, { batchSize: 500, waitMs: 100, maxQueueBytes: 1024 * 1024, lingerMs: 0 }, new Metrics(), pino({ level: 'silent' }));
    hub.start(); // follows from sequence 0, and is held there
    await store.save(Array.from({ length: 100 }, (_, i) => ({ _id: `b${i}`, timestamp: i })));

    // a subscriber that had the first 50 comes back; history brings the rest
    const sink = new RecordingSink();
    hub.subscribe(sink, '50');
    await until(() => sink.liveAt !== undefined, 5000, 'live');
    expect(sink.changes.map((c) => c.seq)).toEqual(Array.from({ length: 50 }, (_, i) => String(51 + i)));

    // the follower catches up through all 100, then a new blob arrives
    store.release();
    await store.save([{ _id: 'new', timestamp: 1000 }]);
    await until(() => sink.changes.length > 50, 5000, 'the new blob');
    await new Promise((resolve) => setTimeout(resolve, 100)); // room for anything late
    expect(sink.changes.map((c) => c.id)).toEqual([...Array.from({ length: 50 }, (_, i) => `b${50 + i}`), 'new']);
  });

  it('backs off 100 ms doubling to 5 s while the store is down, reports it, and starts again from 100 ms after a success', async () => {
    const store = new FlakyStore();
    const time = new FakeTime();
    hub = new ChangeHub(store, { batchSize: 500, waitMs: 50, maxQueueBytes: 1024 * 1024, lingerMs: 0 }, new Metrics(), pino({ level: 'silent' }), time);
    time.hub = hub;
    store.failures = 8;
    hub.start();
    await until(() => hub!.status().state === 'following', 5000, 'following again');
    expect(time.sleeps.map((s) => s.ms)).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
    expect(time.sleeps.every((s) => s.state === 'reconnecting')).toBe(true);
    // the time since the store last answered grows by each wait: /readyz and the metric show the outage
    expect(time.sleeps.map((s) => s.lastContactSeconds)).toEqual([0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3, 11.3]);
    expect(hub.status().lastContactSeconds).toBe(0);

    const sink = new RecordingSink();
    hub.subscribe(sink, 'now');
    await until(() => sink.liveAt !== undefined, 5000, 'live');
    store.failures = 2;
    await store.save([{ _id: 'after', timestamp: 1 }]);
    await until(() => sink.changes.length > 0 && time.sleeps.length >= 10 && hub!.status().state === 'following', 5000, 'the second outage over');
    expect(time.sleeps.slice(8).map((s) => s.ms)).toEqual([100, 200]);
    expect(sink.changes.map((c) => c.id)).toEqual(['after']);
  });
});
