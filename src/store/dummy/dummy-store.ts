import type { Logger } from 'pino';
import { withIds } from '../ids.js';
import { MemoryClaimBook } from '../memory-claim-book.js';
import type { ChangesBatch, ChangesOptions, KpiBlob, RangeCursor, RangeQuery, SaveResult, Store, StoredBlob } from '../store.js';

/** Sample sign-in blobs in the shape the seed's clients sent. */
const CANNED: readonly StoredBlob[] = [
  {
    _id: 'dummy-1',
    timestamp: 1338000000,
    lang: 'en-US',
    screen_size: { width: 1280, height: 800 },
    event_stream: [
      ['screen.rp_info', 0],
      ['screen.authenticated', 7],
    ],
    user_agent: { os: 'Linux', browser: 'Firefox', version: 13 },
  },
  {
    _id: 'dummy-2',
    timestamp: 1338000060,
    lang: 'fr',
    screen_size: { width: 1024, height: 768 },
    event_stream: [
      ['screen.rp_info', 0],
      ['screen.authenticated', 12],
    ],
    user_agent: { os: 'Windows', browser: 'MSIE', version: 9 },
  },
  {
    _id: 'dummy-3',
    timestamp: 1338000120,
    lang: 'de',
    screen_size: { width: 320, height: 480 },
    event_stream: [
      ['screen.rp_info', 0],
      ['screen.authenticated', 4],
    ],
    user_agent: { os: 'iOS', browser: 'Safari', version: 5 },
  },
];

/** Stores nothing: logs each call and answers with canned blobs, to exercise the HTTP layer alone. */
export class DummyStore implements Store {
  readonly backend = 'dummy';
  readonly claims = new MemoryClaimBook();

  constructor(private readonly logger: Logger) {}

  async open(): Promise<void> {
    this.logger.warn('DB_BACKEND=dummy: nothing is stored; reads return canned blobs');
  }

  async save(blobs: readonly KpiBlob[]): Promise<SaveResult> {
    this.logger.info({ blobs: blobs.length }, 'dummy store: save (discarded)');
    return { ids: withIds(blobs).map((d) => d._id), existing: [] };
  }

  async get(id: string): Promise<StoredBlob | undefined> {
    this.logger.info({ id }, 'dummy store: get');
    return CANNED.find((b) => b._id === id);
  }

  async page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    this.logger.info({ query }, 'dummy store: range');
    const inRange = CANNED.filter((b) => (query.start ?? -Infinity) <= b.timestamp && b.timestamp <= (query.end ?? Infinity));
    const ordered = query.descending ? [...inRange].reverse() : inRange;
    const from = after ? ordered.findIndex((b) => b._id === after.id) + 1 : 0;
    return ordered.slice(from, from + size);
  }

  async count(): Promise<number> {
    this.logger.info('dummy store: count');
    return CANNED.length;
  }

  async remove(ids: readonly string[]): Promise<number> {
    this.logger.info({ ids: ids.length }, 'dummy store: remove (nothing to remove)');
    return 0;
  }

  /** No change ever happens: waits, then answers an empty batch. */
  async changes(since: string, { waitMs }: ChangesOptions): Promise<ChangesBatch> {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    return { changes: [], lastSeq: since, complete: true };
  }

  async currentSeq(): Promise<string> {
    return '0';
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
