// `_checkpoint.json`, in the job's folder: where the job stands, and the part files its last load
// committed. It is replaced whole by a rename, and that rename is the load's commit: the parts
// it names (`pending`) were already written and fsynced under `_staging/`, and moving them into
// place afterwards is replayed by open() if a crash cut it short. So the checkpoint and the files
// it covers move together. (The leading `_` keeps it, like `_staging/`, out of Spark's, Hive's
// and most globbing readers' sight.)
import { join } from 'node:path';
import { z } from 'zod';
import { COLUMN_TYPES } from '../config.js';
import { type Column, DestinationError } from '../destination.js';
import type { FileSystem } from './file-system.js';

export const CHECKPOINT_FILE = '_checkpoint.json';
export const STAGING_DIR = '_staging';

const ColumnSchema = z.strictObject({ name: z.string().min(1), path: z.array(z.string()), type: z.enum(COLUMN_TYPES) });

/** A part file the commit made: its name in `_staging/`, and where it goes, relative to the job's folder. */
const PendingSchema = z.strictObject({ name: z.string().regex(/^[^/\\]+$/), to: z.string().min(1) });

const CheckpointFileSchema = z.strictObject({
  version: z.literal(1),
  job: z.string(),
  checkpoint: z.string().nullable(),
  columns: z.array(ColumnSchema),
  rows: z.int().nonnegative(),
  /** The number of the next part file: numbers are never reused, so a file, once in place, is never overwritten. */
  next_part: z.int().nonnegative(),
  pending: z.array(PendingSchema),
});
export type CheckpointFile = z.infer<typeof CheckpointFileSchema>;
export type PendingPart = z.infer<typeof PendingSchema>;

export function freshCheckpoint(job: string): CheckpointFile {
  return { version: 1, job, checkpoint: null, columns: [], rows: 0, next_part: 1, pending: [] };
}

/** The file's content checked; a message naming the file when it is not one of ours. */
function parseCheckpoint(text: string, where: string): CheckpointFile | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `${where} is not JSON: was it edited by hand?`;
  }
  const result = CheckpointFileSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  return `${where} is not an export checkpoint (${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'})`;
}

/** The job's checkpoint in `dir`, or undefined when there is none yet; refused when it is another job's, or not a checkpoint. */
export async function readCheckpoint(fs: FileSystem, dir: string, job: string): Promise<CheckpointFile | undefined> {
  const where = join(dir, CHECKPOINT_FILE);
  const text = await fs.read(where);
  if (text === undefined) return undefined;
  const state = parseCheckpoint(text.toString('utf8'), where);
  if (typeof state === 'string') throw new DestinationError(state);
  if (state.job !== job) throw new DestinationError(`${dir} holds the files of export job ${JSON.stringify(state.job)}, not ${JSON.stringify(job)}: give each job its own dir`);
  return state;
}

/** A folder without a checkpoint is a new job's only when empty: part numbers start again at 1, and a rename would replace an old part. */
export async function refuseForeignFiles(fs: FileSystem, dir: string, job: string): Promise<void> {
  const others = (await fs.list(dir)).filter((name) => name !== STAGING_DIR && name !== `${CHECKPOINT_FILE}.tmp`);
  if (others.length > 0)
    throw new DestinationError(
      `${dir} holds files (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}) but no ${CHECKPOINT_FILE}: give job ${job} an empty or new dir`,
    );
}

export function columnsOf(file: CheckpointFile): Column[] {
  return file.columns.map((column) => ({ name: column.name, path: [...column.path], type: column.type }));
}
