export interface GroupCommitOptions {
  /** Most items in one write, unless a single submission alone is larger (it is never split). */
  maxItems: number;
  /** Writes in flight at once; further submissions wait and are coalesced. */
  concurrency: number;
}

interface Submission<T, R> {
  items: readonly T[];
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent writes into bulk writes (CouchDB `_bulk_docs`, PouchDB `bulkDocs`).
 * A write starts at once while fewer than `concurrency` are in flight, so a lone request waits
 * for nothing; under load, submissions queue behind the writes in flight and leave together.
 * Each submission gets back exactly its own results, or the error of the write that carried it.
 */
export class GroupCommit<T, R> {
  private readonly queue: Submission<T, R>[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(items: readonly T[]): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once everything submitted so far has been written (or has failed). */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.run(batch);
    }
    if (this.inFlight === 0 && this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private takeBatch(): Submission<T, R>[] {
    const batch: Submission<T, R>[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && size + next.items.length > this.options.maxItems) break;
      batch.push(this.queue.shift()!);
      size += next.items.length;
    }
    return batch;
  }

  private async run(batch: Submission<T, R>[]): Promise<void> {
    try {
      const results = await this.write(batch.flatMap((s) => s.items));
      let offset = 0;
      for (const s of batch) {
        s.resolve(results.slice(offset, offset + s.items.length));
        offset += s.items.length;
      }
    } catch (error) {
      for (const s of batch) s.reject(error);
    } finally {
      this.inFlight--;
      this.pump();
    }
  }
}
