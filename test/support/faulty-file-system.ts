// A file system that dies at its Nth call, as a process killed between two system calls would:
// the Nth call throws (a write first writes half its bytes: a torn write), and every call after it
// throws too, so no clean-up code runs as if the process were alive. fsync is counted but not
// done: it matters for a power cut, which a test cannot make, not for a killed process.
import type { FileSystem, WritableFile } from '../../src/export/files/file-system.js';
import { nodeFileSystem } from '../../src/export/files/file-system.js';

class Crash extends Error {
  override readonly name = 'Crash';
}

export class FaultyFileSystem implements FileSystem {
  #calls = 0;
  #open = new Set<WritableFile>();
  crashed = false;

  /** @param crashAt the call (1-based) that crashes; Infinity never does. */
  constructor(private readonly crashAt: number) {}

  get calls(): number {
    return this.#calls;
  }

  /** Closes what the dead "process" left open (the kernel would). */
  async release(): Promise<void> {
    for (const file of this.#open) await file.close().catch(() => undefined);
    this.#open.clear();
  }

  #step(): boolean {
    if (this.crashed) throw new Crash('already crashed');
    this.#calls += 1;
    if (this.#calls < this.crashAt) return false;
    this.crashed = true;
    return true;
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    if (this.#step()) return Promise.reject(new Crash(`crash at call ${this.#calls}`));
    return run();
  }

  mkdir(path: string) {
    return this.#call(() => nodeFileSystem.mkdir(path));
  }
  read(path: string) {
    return this.#call(() => nodeFileSystem.read(path));
  }
  list(path: string) {
    return this.#call(() => nodeFileSystem.list(path));
  }
  rename(from: string, to: string) {
    return this.#call(() => nodeFileSystem.rename(from, to));
  }
  remove(path: string) {
    return this.#call(() => nodeFileSystem.remove(path));
  }
  exists(path: string) {
    return this.#call(() => nodeFileSystem.exists(path));
  }
  syncDir(_path: string) {
    return this.#call(async () => undefined);
  }

  create(path: string): Promise<WritableFile> {
    return this.#call(async () => {
      const file = await nodeFileSystem.create(path);
      this.#open.add(file);
      return {
        write: async (data) => {
          if (this.#step()) {
            await file.write(data.subarray(0, Math.floor(data.length / 2)));
            throw new Crash(`torn write at call ${this.#calls}`);
          }
          await file.write(data);
        },
        sync: () => this.#call(async () => undefined),
        close: () =>
          this.#call(async () => {
            this.#open.delete(file);
            await file.close();
          }),
      };
    });
  }
}
