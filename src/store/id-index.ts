import { ClassicLevel } from 'classic-level';

/** Where the index is complete to: every change of the database up to this sequence is in it. */
const CHECKPOINT = '\u0000checkpoint';
const PREFIX = 'i/';

/** An id's entry: its blob's timestamp, or undefined where the blob was removed. */
export interface IdEntry {
  id: string;
  timestamp: number | undefined;
}

/**
 * The pouchdb store's index from blob id to timestamp (which locates the blob's document), in a
 * LevelDB of its own beside PouchDB's. As a PouchDB document per blob it doubled the cost of every
 * write; a plain LevelDB batch costs a few µs a blob. It is written after the database and records
 * the sequence it has reached, so after a crash between the two (or a failed index write) the
 * store replays the database's changes from there (`reached`) and the index catches up.
 */
export class IdIndex {
  private constructor(
    private readonly db: ClassicLevel<string, string>,
    private checkpoint: number,
  ) {}

  /** The database sequence the index is complete to; -1 while it is new. */
  get reached(): number {
    return this.checkpoint;
  }

  static async open(location: string): Promise<IdIndex> {
    const db = new ClassicLevel<string, string>(location);
    await db.open();
    const checkpoint = await db.get(CHECKPOINT);
    return new IdIndex(db, checkpoint === undefined ? -1 : Number(checkpoint));
  }

  /** Timestamps of these ids' blobs, undefined for ids not stored. */
  async timestamps(ids: readonly string[]): Promise<(number | undefined)[]> {
    if (ids.length === 0) return [];
    const found = await this.db.getMany(ids.map((id) => PREFIX + id));
    return found.map((value) => (value === undefined ? undefined : Number(value)));
  }

  /** Records entries of the database's changes up to and including sequence `seq`. */
  async apply(entries: readonly IdEntry[], seq: number): Promise<void> {
    await this.db.batch([
      ...entries.map(({ id, timestamp }) =>
        timestamp === undefined ? { type: 'del' as const, key: PREFIX + id } : { type: 'put' as const, key: PREFIX + id, value: String(timestamp) },
      ),
      { type: 'put', key: CHECKPOINT, value: String(seq) },
    ]);
    this.checkpoint = seq;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
