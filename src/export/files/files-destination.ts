// The files destination: a job's rows as NDJSON or CSV part files in one folder, optionally
// gzipped, one part per window of blob time touched by a batch (and/or per `max_blobs` rows), the
// checkpoint beside them in `_checkpoint.json`.
//
// A load, in this order (a crash between any two of these calls leaves the old state or the new
// one, once open() has run):
//   1. each part is written to `_staging/part-N.ext`, fsynced, closed; `_staging/` is fsynced;
//      the window folders are created (their parent fsynced when one is new);
//   2. `_checkpoint.json.tmp` (new checkpoint, columns, rows, next part number, and the parts with
//      where each goes) is written, fsynced, renamed over `_checkpoint.json`, the folder fsynced:
//      THE COMMIT. Before it, the old checkpoint stands and the staged parts are strays that
//      open() deletes; after it, the new checkpoint stands and the parts are its to place;
//   3. each part is renamed into its window folder, and the folders are fsynced. open() redoes
//      what a crash left of this step (a part still in `_staging/` is moved; one already moved
//      is left), so it is done exactly once.
// A part is never written again once in place (numbers only grow), so a reader sees only whole
// files, and the rows of a window that a later batch brings (blobs come in feed order, not time
// order) go into a new part of that window.
import { dirname, join } from 'node:path';
import { gzip } from 'node:zlib';
import type { ExportJobConfig } from '../config.js';
import { type Batch, type Destination, DestinationError, type JobState, type Row } from '../destination.js';
import { parseDuration } from '../duration.js';
import { CHECKPOINT_FILE, type CheckpointFile, columnsOf, freshCheckpoint, type PendingPart, readCheckpoint, refuseForeignFiles, STAGING_DIR } from './checkpoint-file.js';
import { csvRows } from './csv-rows.js';
import { type FileSystem, nodeFileSystem } from './file-system.js';
import { ndjsonRows } from './ndjson-rows.js';
import { windowName } from './window.js';

export type FilesOptions = Extract<ExportJobConfig['destination'], { kind: 'files' }>;

/** gzip on libuv's threads, so that several parts compress side by side. */
function gzipped(bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => gzip(bytes, (error, out) => (error ? reject(error) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)))));
}

const utf8 = new TextEncoder();

/** One part file of a load: the window folder it goes in ('' for the job's folder) and its rows. */
interface Part {
  readonly folder: string;
  readonly rows: readonly Row[];
}

/** The batch's rows split by window (in the order windows first appear), then into runs of at most `maxRows`. */
function partsOf(rows: readonly Row[], windowMs: number | undefined, maxRows: number): Part[] {
  const byFolder = new Map<string, Row[]>();
  if (windowMs === undefined) byFolder.set('', rows as Row[]);
  else
    for (const row of rows) {
      const folder = windowName(row.at, windowMs);
      const list = byFolder.get(folder);
      if (list) list.push(row);
      else byFolder.set(folder, [row]);
    }
  const parts: Part[] = [];
  for (const [folder, list] of byFolder) for (let i = 0; i < list.length; i += maxRows) parts.push({ folder, rows: list.slice(i, i + maxRows) });
  return parts;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class FilesDestination implements Destination {
  readonly #options: FilesOptions;
  readonly #job: string;
  readonly #fs: FileSystem;
  readonly #windowMs: number | undefined;
  readonly #staging: string;
  /** What `_checkpoint.json` holds; undefined until open(), and after a load failed (open() again to learn where things stand). */
  #state: CheckpointFile | undefined;

  constructor(options: FilesOptions, job: string, fs: FileSystem) {
    this.#options = options;
    this.#job = job;
    this.#fs = fs;
    this.#staging = join(options.dir, STAGING_DIR);
    if (options.window === undefined) this.#windowMs = undefined;
    else {
      this.#windowMs = parseDuration(options.window);
      if (this.#windowMs === undefined) throw new DestinationError(`job ${job}: window ${JSON.stringify(options.window)} is not a duration such as "1h"`);
    }
  }

  async open(): Promise<JobState> {
    this.#state = undefined;
    const dir = this.#options.dir;
    try {
      if (await this.#fs.mkdir(dir)) await this.#fs.syncDir(dirname(dir));
      if (await this.#fs.mkdir(this.#staging)) await this.#fs.syncDir(dir);
      const state = (await readCheckpoint(this.#fs, dir, this.#job)) ?? (await this.#claim());
      // The last commit's parts: whatever a crash left in _staging/ goes into place now.
      await this.#place(state.pending, true);
      // Anything else in _staging/ is a load that never committed.
      let removed = false;
      for (const name of await this.#fs.list(this.#staging)) removed = (await this.#fs.remove(join(this.#staging, name))) || removed;
      if (removed) await this.#fs.syncDir(this.#staging);
      await this.#fs.remove(join(dir, `${CHECKPOINT_FILE}.tmp`));
      this.#state = state;
      return { checkpoint: state.checkpoint ?? undefined, columns: columnsOf(state), rows: state.rows };
    } catch (error) {
      if (error instanceof DestinationError) throw error;
      throw new DestinationError(`job ${this.#job}: cannot open ${dir}: ${describe(error)}`);
    }
  }

  async load(batch: Batch): Promise<void> {
    const state = this.#state;
    if (state === undefined) throw new DestinationError(`job ${this.#job}: load() before open(), or after a load failed (open() again: it says where the files stand)`);
    this.#state = undefined;
    try {
      const parts = partsOf(batch.rows, this.#windowMs, this.#options.max_blobs ?? Number.POSITIVE_INFINITY);
      const pending = await this.#stage(parts, batch.columns, state.next_part);
      const next: CheckpointFile = {
        ...state,
        checkpoint: batch.seq,
        columns: batch.columns.map((column) => ({ name: column.name, path: [...column.path], type: column.type })),
        rows: state.rows + batch.rows.length,
        next_part: state.next_part + parts.length,
        pending,
      };
      await this.#commit(next);
      await this.#place(pending, false);
      this.#state = next;
    } catch (error) {
      throw new DestinationError(`job ${this.#job}: loading into ${this.#options.dir} failed: ${describe(error)}`);
    }
  }

  async close(): Promise<void> {
    this.#state = undefined;
  }

  /** A new job's folder: refused when it holds files already, else claimed with a first checkpoint, so that another job pointed at it is refused too. */
  async #claim(): Promise<CheckpointFile> {
    await refuseForeignFiles(this.#fs, this.#options.dir, this.#job);
    const state = freshCheckpoint(this.#job);
    await this.#commit(state);
    return state;
  }

  /** Step 1: the parts written and fsynced in _staging/, their folders made; nothing is visible yet. */
  async #stage(parts: readonly Part[], columns: Batch['columns'], firstNumber: number): Promise<PendingPart[]> {
    const { format, gzip: zip } = this.#options;
    const ext = `${format}${zip ? '.gz' : ''}`;
    // Every part encoded (and gzipped, on libuv's threads, side by side) before the first write.
    const bodies = await Promise.all(
      parts.map(async (part) => {
        const bytes = utf8.encode(format === 'csv' ? csvRows(part.rows, columns) : ndjsonRows(part.rows, columns));
        return zip ? gzipped(bytes) : bytes;
      }),
    );
    const pending: PendingPart[] = [];
    const folders = new Set<string>();
    for (let i = 0; i < parts.length; i++) {
      const name = `part-${String(firstNumber + i).padStart(6, '0')}.${ext}`;
      const file = await this.#fs.create(join(this.#staging, name));
      await file.write(bodies[i] as Uint8Array);
      await file.sync();
      await file.close();
      const folder = (parts[i] as Part).folder;
      folders.add(folder);
      pending.push({ name, to: folder === '' ? name : join(folder, name) });
    }
    if (pending.length > 0) await this.#fs.syncDir(this.#staging);
    let created = false;
    for (const folder of folders) if (folder !== '') created = (await this.#fs.mkdir(join(this.#options.dir, folder))) || created;
    if (created) await this.#fs.syncDir(this.#options.dir);
    return pending;
  }

  /** Step 2: the new checkpoint file, fsynced, renamed into place, the folder fsynced. */
  async #commit(next: CheckpointFile): Promise<void> {
    const path = join(this.#options.dir, CHECKPOINT_FILE);
    const file = await this.#fs.create(`${path}.tmp`);
    await file.write(utf8.encode(`${JSON.stringify(next, null, 1)}\n`));
    await file.sync();
    await file.close();
    await this.#fs.rename(`${path}.tmp`, path);
    await this.#fs.syncDir(this.#options.dir);
  }

  /**
   * Step 3: the committed parts moved from _staging/ into their folders, which are then fsynced
   * (before the next commit forgets the list). When `recovering`, a part no longer in _staging/
   * was moved before the crash; it must then be in place.
   */
  async #place(pending: readonly PendingPart[], recovering: boolean): Promise<void> {
    if (pending.length === 0) return;
    const dir = this.#options.dir;
    const folders = new Set<string>();
    for (const part of pending) {
      const to = join(dir, part.to);
      folders.add(dirname(to));
      const from = join(this.#staging, part.name);
      if (recovering) {
        if (!(await this.#fs.exists(from))) {
          if (await this.#fs.exists(to)) continue;
          throw new DestinationError(`${to}, which ${CHECKPOINT_FILE} covers, is neither in ${STAGING_DIR}/ nor in place: was it removed by hand?`);
        }
        if (await this.#fs.mkdir(dirname(to))) await this.#fs.syncDir(dirname(dirname(to)));
      }
      await this.#fs.rename(from, to);
    }
    for (const folder of folders) await this.#fs.syncDir(folder);
    await this.#fs.syncDir(this.#staging);
  }
}

/** The files destination of one job: `options.dir` holds its part files and its checkpoint (and nothing of another job). */
export function createFilesDestination(options: FilesOptions, job: string, fs: FileSystem = nodeFileSystem): Destination {
  return new FilesDestination(options, job, fs);
}
