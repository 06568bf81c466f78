import { access } from 'node:fs/promises';
import type { ClassicLevel } from 'classic-level';
import type { Logger } from 'pino';
import { StoreError } from '../store.js';
import { changeKey, idKey, idValue, META, MIGRATION, timeKey, type ChangeEntry, type Meta, type Migration } from './keys.js';

/*
 * The move of a pouchdb store (DATA_DIR/<DB_NAME>, written by the pouchdb backend) into the
 * leveldb store, on its first opening over such a DATA_DIR. Each chunk of blobs is copied in one
 * atomic batch together with the meta (count, seq) and the migration's state, which names the
 * last PouchDB key copied: a migration cut short (kill -9) resumes after its last chunk, and
 * nothing is copied twice or left out. The PouchDB store is only read (LevelDB's opening does
 * rewrite its log into a table: the same content), and left in place.
 */

type Db = ClassicLevel<string, string>;
type Doc = Record<string, unknown> & { _id: string; _rev?: string };

/** PouchDB documents read (and blobs written) at once: ~1 MB of JSON, a few hundred ms of work. */
const CHUNK = 2000;
/** The pouchdb backend's blob documents: `t/<timestamp, 16 digits>/<id>`. */
const BLOB_KEY = /^t\/(\d{16})\/(.+)$/s;
const FIRST = 't/';
/** Above every blob key: a digit follows `t/`. */
const LAST = 't/\uffff';

interface PouchDbMigrationOptions {
  db: Db;
  meta: Meta;
  /** The pouchdb store's folder, DATA_DIR/<DB_NAME>. */
  from: string;
  /** The leveldb store's folder, for the log. */
  to: string;
  logger?: Logger | undefined;
}

const exists = (location: string) =>
  access(location).then(
    () => true,
    () => false,
  );
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The migration's state as stored, undefined when none was begun. */
async function migrationState(db: Db): Promise<Migration | undefined> {
  const json = await db.get(MIGRATION);
  return json === undefined ? undefined : (JSON.parse(json) as Migration);
}

/**
 * Copies every blob of the pouchdb store at `from` not yet copied, unless there is none or a
 * migration has finished. Answers the meta after it (the one given when nothing was done).
 */
export async function migrateFromPouchDb(options: PouchDbMigrationOptions): Promise<Meta> {
  const { db, from, to, logger } = options;
  const state = await migrationState(db);
  if (state?.state === 'done' || !(await exists(from))) return options.meta;
  const started = Date.now();
  // loaded only here, an optional dependency: a leveldb store with nothing to migrate never needs PouchDB
  const { default: PouchDB } = await import('pouchdb').catch((error: unknown) => {
    throw new StoreError(
      `the pouchdb store at ${from} must be moved into the leveldb store at ${to}, which needs the optional dependency pouchdb (npm install pouchdb): ${messageOf(error)}`,
      { cause: error },
    );
  });
  // LevelDB's least open files, as the stores use: each one held open stays memory-mapped in RSS
  const pouch = new PouchDB(from, { maxOpenFiles: 74 } as PouchDB.Configuration.LocalDatabaseConfiguration);
  let meta = options.meta;
  let after = state?.after;
  const movedBefore = state?.moved ?? 0;
  let moved = movedBefore;
  const skipped = { duplicates: 0, other: 0 };
  try {
    const documents = (await pouch.info()).doc_count;
    logger?.info(
      { from, to, documents, resumingAfter: moved > 0 ? moved : undefined },
      `leveldb: migrating the blobs of the pouchdb store at ${from} (${documents} documents${moved > 0 ? `, resuming after ${moved} blobs already moved` : ''}); the service listens once it is done`,
    );
    for (;;) {
      // resuming: the row at `after` comes back first (startkey is inclusive); ask for one more and drop it
      const { rows } = await pouch.allDocs<Doc>({ startkey: after ?? FIRST, endkey: LAST, include_docs: true, limit: after === undefined ? CHUNK : CHUNK + 1 });
      const docs = rows.filter((row) => row.id !== after).flatMap((row) => (row.doc ? [row.doc] : []));
      if (docs.length === 0) break;
      const blobs: { id: string; ts: number; json: string }[] = [];
      for (const { _id: key, _rev, ...fields } of docs) {
        const match = BLOB_KEY.exec(key);
        if (!match) {
          skipped.other++; // not a blob of the pouchdb backend's layout
          continue;
        }
        const id = match[2]!;
        blobs.push({ id, ts: Number(match[1]), json: JSON.stringify({ ...fields, _id: id }) });
      }
      // an id the leveldb store holds already (written there before this migration existed, or twice in the old store) is not doubled
      const found = blobs.length === 0 ? [] : await db.getMany(blobs.map((blob) => idKey(blob.id)));
      const taken = new Set(blobs.filter((_, i) => found[i] !== undefined).map((blob) => blob.id));
      let { count, seq } = meta;
      const batch = db.batch();
      for (const blob of blobs) {
        if (taken.has(blob.id)) {
          skipped.duplicates++;
          continue;
        }
        taken.add(blob.id);
        const entry: ChangeEntry = { id: blob.id, ts: blob.ts, deleted: false };
        batch.put(timeKey(blob.ts, blob.id), blob.json);
        batch.put(idKey(blob.id), idValue(blob.ts, ++seq));
        batch.put(changeKey(seq), JSON.stringify(entry));
        count++;
      }
      moved += count - meta.count;
      after = docs[docs.length - 1]!._id;
      const next: Migration = { from, state: 'running', after, moved };
      batch.put(META, JSON.stringify({ count, seq }));
      batch.put(MIGRATION, JSON.stringify(next));
      // not synced: the state travels with its chunk, so a lost tail (power loss) is copied again; the 'done' write below syncs all
      await batch.write();
      meta = { count, seq };
    }
    const done: Migration = { from, state: 'done', after, moved };
    await db.put(MIGRATION, JSON.stringify(done), { sync: true });
  } catch (error) {
    throw new StoreError(`the leveldb store at ${to} could not migrate the pouchdb store at ${from} (${moved} blobs moved so far; the next start resumes): ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    await pouch.close().catch(() => undefined);
  }
  const seconds = (Date.now() - started) / 1000;
  logger?.info(
    { from, to, blobs: moved, thisStart: moved - movedBefore, seconds, skipped },
    // resumed: the seconds are this start's, which moved only the rest
    `leveldb: migrated ${moved} blobs from the pouchdb store ${movedBefore > 0 ? `(${moved - movedBefore} of them in this start's ${seconds.toFixed(1)} s, after ${movedBefore} moved by an earlier one)` : `in ${seconds.toFixed(1)} s`}. Its files at ${from} (and ${from}-ids, ${from}-claim-book) are left in place (only read) and can be deleted once satisfied; drains unfinished on it must be started again (claims are not moved)`,
  );
  return meta;
}
