/*
 * The key layout of the leveldb backend: one LevelDB, four kinds of keys, told apart by their
 * first character. Keys compare as UTF-8 bytes; the fixed-width decimal numbers after a prefix
 * are ASCII, so their byte order is their numeric order.
 *   t<timestamp, 16 digits>\0<id>  → the blob's JSON      ranges read these, timestamp then id
 *   i<id>                          → "<timestamp> <seq>"  get, `_id` uniqueness, and the seq of its write entry
 *   c<seq, 16 digits>              → a ChangeEntry's JSON  the change feed
 *   m                              → the Meta's JSON      count and newest seq
 *   f                              → a Migration's JSON   how far the move from a pouchdb store got
 *   l                              → a seq, decimal       the change log's floor: older removals were trimmed (compaction.ts)
 * A blob, its id key, its change and the meta are written in one atomic batch, so none can
 * fall behind another. A removal, in its own batch, deletes the time and id keys and rewrites the
 * blob's write entry (c<seq> named by its id key) to carry the blob's JSON itself (`json`), so
 * that a reader from before the write still gets the blob, then its removal: the change log is
 * history within its retention, and the trim drops those entries below it (compaction.ts). An id
 * key written before the seq was added (a bare timestamp: the leveldb backend during development)
 * reads with no seq; its write entry keeps no JSON, is skipped once its blob is gone, and is left
 * to the trim.
 */

const TIMESTAMP_DIGITS = 16; // Number.MAX_SAFE_INTEGER has 16 digits
const SEQ_DIGITS = 16;

export const TIME = 't';
/** Just above every time key. */
export const TIME_END = 'u';
export const CHANGE = 'c';
/** Just above every change key. */
export const CHANGE_END = 'd';
export const META = 'm';
/** The state of the move from a pouchdb store (pouchdb-migration.ts): absent when none was begun. */
export const MIGRATION = 'f';
/** The change log's floor: a `since` below it (but 0) is refused, its removals may be trimmed (compaction.ts). */
export const LOG_FLOOR = 'l';
/** A key no other kind starts with: written and deleted at once to learn whether writes succeed. */
export const PROBE = 'p';

/** One entry of the change log: a blob written (deleted false) or removed. The blob itself stays under its time key while it is stored. */
export interface ChangeEntry {
  id: string;
  ts: number;
  deleted: boolean;
  /** On the write entry of a blob since removed: its JSON as it was stored (the time key is gone). */
  json?: string | undefined;
}

/** What makes count() and currentSeq() constant-time, and survives a restart. */
export interface Meta {
  count: number;
  seq: number;
}

/** Written in the same batch as each chunk of blobs it copied, so that it never says more or less than is there. */
export interface Migration {
  /** The pouchdb store's folder. */
  from: string;
  state: 'running' | 'done';
  /** The last PouchDB key copied (`t/<timestamp>/<id>`); absent before the first chunk. */
  after?: string | undefined;
  /** Blobs copied so far. */
  moved: number;
}

const pad = (n: number, digits: number) => String(n).padStart(digits, '0');

/** The lowest key of a timestamp: every time key of `timestamp` is greater. */
export const timeFloor = (timestamp: number) => `${TIME}${pad(timestamp, TIMESTAMP_DIGITS)}\u0000`;
/** Just above every time key of `timestamp` (ids follow a \0, so \u0001 with nothing after is above them all). */
export const timeCeiling = (timestamp: number) => `${TIME}${pad(timestamp, TIMESTAMP_DIGITS)}\u0001`;
export const timeKey = (timestamp: number, id: string) => timeFloor(timestamp) + id;
/** The timestamp of a time key. */
export const timestampOf = (key: string) => Number(key.slice(TIME.length, TIME.length + TIMESTAMP_DIGITS));
/** The id of a time key (after the timestamp and its \0). */
export const idOf = (key: string) => key.slice(TIME.length + TIMESTAMP_DIGITS + 1);
export const idKey = (id: string) => `i${id}`;
/** An id key's value: the blob's timestamp and the seq of its write entry. */
export const idValue = (timestamp: number, seq: number) => `${timestamp} ${seq}`;
/** An id key's value read: `seq` undefined for the older bare timestamp. */
export function parseIdValue(value: string): { timestamp: number; seq: number | undefined } {
  const space = value.indexOf(' ');
  if (space < 0) return { timestamp: Number(value), seq: undefined };
  return { timestamp: Number(value.slice(0, space)), seq: Number(value.slice(space + 1)) };
}
export const changeKey = (seq: number) => CHANGE + pad(seq, SEQ_DIGITS);
export const seqOf = (key: string) => Number(key.slice(CHANGE.length));
