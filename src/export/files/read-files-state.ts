// What `export status` reads of a files destination: `_checkpoint.json`, and nothing written. open()
// would create the folder and claim it with a first checkpoint, and place or delete what a crash
// left in `_staging/`; status leaves all that to the next export, which is the one to do it.
import { join } from 'node:path';
import { DestinationError, type JobState } from '../destination.js';
import { CHECKPOINT_FILE, parseCheckpoint, STAGING_DIR } from './checkpoint-file.js';
import type { FilesOptions } from './files-destination.js';
import { type FileSystem, nodeFileSystem } from './file-system.js';

/** The job's checkpoint and rows as `_checkpoint.json` has them; no checkpoint and 0 rows when there is no such file yet. */
export async function readFilesState(options: FilesOptions, job: string, fs: FileSystem = nodeFileSystem): Promise<Pick<JobState, 'checkpoint' | 'rows'>> {
  const { dir } = options;
  let text: Buffer | undefined;
  try {
    text = await fs.read(join(dir, CHECKPOINT_FILE));
    if (text === undefined) {
      // the export would refuse such a folder (see FilesDestination's claim): say so now rather than "not started"
      const others = (await fs.list(dir)).filter((name) => name !== STAGING_DIR && name !== `${CHECKPOINT_FILE}.tmp`);
      if (others.length > 0)
        throw new DestinationError(
          `${dir} holds files (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}) but no ${CHECKPOINT_FILE}: give job ${job} an empty or new dir`,
        );
      return { checkpoint: undefined, rows: 0 };
    }
  } catch (error) {
    if (error instanceof DestinationError) throw error;
    throw new DestinationError(`job ${job}: cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const state = parseCheckpoint(text.toString('utf8'), join(dir, CHECKPOINT_FILE));
  if (typeof state === 'string') throw new DestinationError(state);
  if (state.job !== job) throw new DestinationError(`${dir} holds the files of export job ${JSON.stringify(state.job)}, not ${JSON.stringify(job)}: give each job its own dir`);
  return { checkpoint: state.checkpoint ?? undefined, rows: state.rows };
}
