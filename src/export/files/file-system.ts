// The few file-system calls the files destination makes, one method per system call (or nearly),
// so that a test can stop the destination between any two of them, as a kill -9 would.
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';

/** A file being written: its bytes, then fsync, then close. */
export interface WritableFile {
  write(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  /** Creates the folder and any missing parent; true when it was created (its parent must then be synced). */
  mkdir(path: string): Promise<boolean>;
  /** Creates or truncates a file for writing. */
  create(path: string): Promise<WritableFile>;
  /** The file's bytes, or undefined when there is no such file. */
  read(path: string): Promise<Buffer | undefined>;
  /** The names in a folder ([] when there is no such folder). */
  list(path: string): Promise<string[]>;
  /** Atomic within one file system; replaces `to` if it exists. */
  rename(from: string, to: string): Promise<void>;
  /** False when there was no such file. */
  remove(path: string): Promise<boolean>;
  /** fsync of a folder, which makes the names created, renamed or removed in it durable. */
  syncDir(path: string): Promise<void>;
  /** Whether a file or folder of this name exists. */
  exists(path: string): Promise<boolean>;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export const nodeFileSystem: FileSystem = {
  async mkdir(path) {
    return (await mkdir(path, { recursive: true })) !== undefined;
  },
  async create(path) {
    const handle = await open(path, 'w');
    return {
      write: async (data) => {
        await handle.writeFile(data);
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  async read(path) {
    try {
      return await readFile(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async list(path) {
    try {
      return await readdir(path);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  },
  rename: (from, to) => rename(from, to),
  async remove(path) {
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  },
  async syncDir(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async exists(path) {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  },
};
