// The table's time partitions (KMDB): one per `partition_days` days of `at`, aligned on whole
// multiples of that span since Monday 1970-01-05 UTC (so that weekly partitions are ISO weeks),
// created by the load that first needs one. Another
// exporter (another job on the same table) may create the same partition at the same moment: its
// CREATE waits on our lock or we on its, and the loser's "already exists" is not a failure.
import type { ClientBase } from 'pg';
import type { Row } from '../destination.js';
import { atText } from './copy-text.js';
import { pgTimestamp } from './pg-timestamp.js';
import { qualified } from './sql-names.js';

const DAY_MS = 86_400_000;
/** Monday 1970-01-05T00:00:00Z. */
const ORIGIN_MS = 4 * DAY_MS;

/** One partition: its bounds [from, to) and its name, `<table>_pYYYYMMDD` of its first day. */
interface Partition {
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

function partitionOf(table: string, at: Date, days: number): Partition {
  const span = days * DAY_MS;
  const from = new Date(ORIGIN_MS + Math.floor((at.getTime() - ORIGIN_MS) / span) * span);
  const to = new Date(from.getTime() + span);
  const day = (pgTimestamp(from) ?? '').slice(0, 10).replaceAll('-', '');
  return { name: `${table}_p${day}`, from, to };
}

/** The partitions the rows fall in, each once. */
function partitionsFor(table: string, rows: readonly Row[], days: number): Partition[] {
  const span = days * DAY_MS;
  const seen = new Map<number, Partition>();
  for (const row of rows) {
    atText(row);
    const index = Math.floor((row.at.getTime() - ORIGIN_MS) / span);
    if (!seen.has(index)) seen.set(index, partitionOf(table, row.at, days));
  }
  return [...seen.values()];
}

/** The partitions PostgreSQL reports as already being the table's (by name). */
async function existingPartitions(client: ClientBase, schema: string, table: string): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)`, [
    qualified(schema, table),
  ]);
  return new Set(rows.map((r) => r.name));
}

// duplicate_table, unique_violation (on pg_class/pg_type, when two CREATEs race), invalid_object_definition ("would overlap").
const RACED = new Set(['42P07', '23505', '42P17']);

/** Said after PostgreSQL's "no partition of relation … found for row", which a changed partition_days can cause. */
export const NO_PARTITION_HINT =
  'a partition of another size covers part of its span (was partition_days changed? partitions are never resized): add the missing partition by hand';

/**
 * Creates the missing partitions for `rows`, inside the caller's transaction. Each CREATE runs
 * under a savepoint, so that losing a race to another exporter costs the savepoint, not the load;
 * the partition it lost to is checked to be there before going on. One that would overlap a
 * partition of another size is not made.
 */
export async function ensurePartitions(client: ClientBase, schema: string, table: string, rows: readonly Row[], days: number): Promise<void> {
  if (rows.length === 0) return;
  const needed = partitionsFor(table, rows, days);
  let existing = await existingPartitions(client, schema, table);
  for (const partition of needed) {
    if (existing.has(partition.name)) continue;
    await client.query('SAVEPOINT kpiggybank_partition');
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${qualified(schema, partition.name)} PARTITION OF ${qualified(schema, table)} FOR VALUES FROM ('${pgTimestamp(partition.from)}') TO ('${pgTimestamp(partition.to)}')`,
      );
      await client.query('RELEASE SAVEPOINT kpiggybank_partition');
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT kpiggybank_partition');
      const code = (error as { code?: string }).code;
      if (code === undefined || !RACED.has(code)) throw error;
      // An overlap is a partition of another size (partition_days changed): the rows it covers
      // load into it, and a row it does not cover fails the COPY with "no partition … found".
      if (code === '42P17') continue;
      existing = await existingPartitions(client, schema, table);
      if (!existing.has(partition.name)) throw error;
    }
  }
}
