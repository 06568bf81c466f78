// What `export status` reads of a PostgreSQL destination, changing nothing: the job's row of the
// sync table, in a READ ONLY transaction (the server itself refuses any write in it), and no
// schema, table or row created when they are not there yet.
import type pg from 'pg';
import { DestinationError, type JobState } from '../destination.js';
import { connect, reason } from './connection.js';
import type { PostgresOptions } from './postgres-destination.js';
import { scrubbed, serverName } from './server-name.js';
import { qualified } from './sql-names.js';

/** The job's checkpoint and rows in the sync table; no checkpoint and 0 rows when the table or the job's row is not there yet. */
export async function readPostgresState(options: PostgresOptions, job: string): Promise<Pick<JobState, 'checkpoint' | 'rows'>> {
  const where = `${options.schema}.${options.table ?? job} on PostgreSQL at ${serverName(options.url)}`;
  const fail = (doing: string, error: unknown) => new DestinationError(scrubbed(`${doing} ${where}: ${reason(error)}`, options.url));
  let client: pg.Client;
  try {
    // a connection lost mid-query fails that query, which says so
    client = await connect(options.url, 'kpiggybank export status', () => undefined);
  } catch (error) {
    throw fail('cannot connect to read', error);
  }
  try {
    await client.query('BEGIN READ ONLY');
    const sync = qualified(options.schema, options.sync_table);
    // to_regclass is NULL for a missing table, or schema: no error, nothing created
    const found = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [sync]);
    if (found.rows[0]?.present !== true) return { checkpoint: undefined, rows: 0 };
    const checkpoint = await client.query<{ seq: string | null; rows: string }>(`SELECT seq, rows FROM ${sync} WHERE job = $1`, [job]);
    const row = checkpoint.rows[0];
    return { checkpoint: row?.seq ?? undefined, rows: Number(row?.rows ?? 0) };
  } catch (error) {
    throw fail('cannot read the checkpoint of', error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
