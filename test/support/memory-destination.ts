// A destination held in memory, for the export pipeline's logic tests (batching, checkpoints,
// stops): what a real one does with a batch is tested against the real ones. Its `Table` outlives
// the destination, so a test can open it again as a restarted exporter would.
import type { Batch, Column, Destination, JobState, Row } from '../../src/export/destination.js';

export class Table {
  checkpoint: string | undefined;
  columns: readonly Column[] = [];
  readonly rows: Row[] = [];
  readonly batches: Batch[] = [];
}

export class MemoryDestination implements Destination {
  closed = false;

  constructor(
    readonly table = new Table(),
    /** Fails the load of this batch (1 = the first), without loading anything of it. */
    private readonly failAt?: number,
  ) {}

  async open(): Promise<JobState> {
    return { checkpoint: this.table.checkpoint, columns: this.table.columns, rows: this.table.rows.length };
  }

  async load(batch: Batch): Promise<void> {
    if (this.failAt === this.table.batches.length + 1) throw new Error('the disk is full');
    this.table.batches.push(batch);
    this.table.rows.push(...batch.rows);
    this.table.columns = batch.columns;
    this.table.checkpoint = batch.seq;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
