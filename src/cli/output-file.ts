import { randomBytes } from 'node:crypto';
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CliError, errorMessage } from './cli-error.js';

/** Writing the drain's file failed (the disk, not the network). */
export class WriteError extends Error {
  override readonly name = 'WriteError';
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

/**
 * The drain's file, written under a temporary name beside it (same directory, so the rename is
 * atomic) and put in place only once complete and fsynced: a drain that fails leaves the
 * destination as it was, and an existing file is never replaced unless `force`.
 */
export class OutputFile {
  private placed = false;
  private handle: FileHandle | undefined;

  private constructor(
    readonly destination: string,
    readonly temporary: string,
    handle: FileHandle,
    private readonly force: boolean,
  ) {
    this.handle = handle;
  }

  /** Checks the destination and opens the temporary file: before anything is claimed, so that a bad path costs nothing. */
  static async create(destination: string, force: boolean): Promise<OutputFile> {
    const existing = await lstat(destination).catch((error: unknown) => {
      if (code(error) === 'ENOENT') return undefined;
      throw new CliError(`cannot write ${destination}: ${errorMessage(error)}; nothing was claimed`);
    });
    if (existing?.isDirectory()) throw new CliError(`cannot write ${destination}: it is a directory; nothing was claimed`);
    if (existing && !force) throw new CliError(`${destination} exists: nothing was claimed; choose another --out, or pass --force to replace it`);
    const temporary = path.join(path.dirname(destination), `.${path.basename(destination)}.${randomBytes(4).toString('hex')}.partial`);
    const handle = await open(temporary, 'wx').catch((error: unknown) => {
      throw new CliError(`cannot write ${destination}: ${errorMessage(error)}; nothing was claimed`);
    });
    return new OutputFile(destination, temporary, handle, force);
  }

  async write(chunk: Uint8Array): Promise<void> {
    try {
      await this.handle!.write(chunk);
    } catch (error) {
      throw new WriteError(`cannot write ${this.destination} (its temporary file ${this.temporary}): ${errorMessage(error)}`);
    }
  }

  /** fsync and close the temporary file: on disk before anything is deleted. */
  async finish(): Promise<void> {
    try {
      await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
    } catch (error) {
      throw new WriteError(`cannot write ${this.destination} (fsync of ${this.temporary}): ${errorMessage(error)}`);
    }
  }

  /** Renames the complete file into place, then fsyncs the directory, so that the name survives a crash too. */
  async place(): Promise<void> {
    try {
      if (this.force) await rename(this.temporary, this.destination);
      else await this.placeNew();
      this.placed = true;
      const dir = await open(path.dirname(this.destination), 'r');
      await dir.sync().finally(() => dir.close());
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new WriteError(`cannot put ${this.destination} in place: ${errorMessage(error)}`);
    }
  }

  /** A hard link fails if the destination appeared meanwhile, where a rename would replace it. */
  private async placeNew(): Promise<void> {
    try {
      await link(this.temporary, this.destination);
    } catch (error) {
      if (code(error) === 'EEXIST') throw new CliError(`${this.destination} appeared while draining: left as it is; pass --force to replace it`);
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV'].includes(code(error) ?? '')) throw error;
      // A file system without hard links: check, then rename (a small window, only there).
      if (
        await lstat(this.destination).then(
          () => true,
          () => false,
        )
      )
        throw new CliError(`${this.destination} appeared while draining: left as it is; pass --force to replace it`);
      await rename(this.temporary, this.destination);
      return;
    }
    await unlink(this.temporary);
  }

  /** Removes what this drain wrote: the temporary file, or the destination if it was put in place (its blobs are not deleted from the store). */
  async discard(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await unlink(this.temporary).catch(() => undefined);
    if (this.placed) await unlink(this.destination).catch(() => undefined);
    this.placed = false;
  }
}
