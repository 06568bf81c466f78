// What `export status` reads of a files destination: `_checkpoint.json`, and nothing written. open()
// would create the folder and claim it with a first checkpoint, and place or delete what a crash
// left in `_staging/`; status leaves all that to the next export, which is the one to do it.
import { DestinationError, type JobState } from '../destination.js';
import { readCheckpoint, refuseForeignFiles } from './checkpoint-file.js';
import type { FilesOptions } from './files-destination.js';
import { type FileSystem, nodeFileSystem } from './file-system.js';

/** The job's checkpoint and rows as `_checkpoint.json` has them; no checkpoint and 0 rows when there is no such file yet. */
export async function readFilesState(options: FilesOptions, job: string, fs: FileSystem = nodeFileSystem): Promise<Pick<JobState, 'checkpoint' | 'rows'>> {
  const { dir } = options;
  try {
    const state = await readCheckpoint(fs, dir, job);
    if (state !== undefined) return { checkpoint: state.checkpoint ?? undefined, rows: state.rows };
    // the export would refuse such a folder (FilesDestination's claim): say so now rather than "not started"
    await refuseForeignFiles(fs, dir, job);
    return { checkpoint: undefined, rows: 0 };
  } catch (error) {
    if (error instanceof DestinationError) throw error;
    throw new DestinationError(`job ${job}: cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
