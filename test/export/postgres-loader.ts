// A child process for test/export/postgres.test.ts's kill -9 test: opens the PostgreSQL
// destination of one job and loads numbered batches (batch n has seq "n" and ids "n-0" … "n-k")
// from its checkpoint on, printing "loaded n" after each, until `total` batches are in.
// argv: url schema batches rowsPerBatch
import { createPostgresDestination } from '../../src/export/postgres/postgres-destination.js';
import type { Row } from '../../src/export/destination.js';

const [url = '', schema = '', total = '0', perBatch = '0'] = process.argv.slice(2);
const destination = createPostgresDestination({ kind: 'postgres', url, schema, table: 'events', partition_days: 1, sync_table: 'kpiggybank_sync' }, 'kill_test');
const state = await destination.open();
const columns = [{ name: 'n', path: ['n'], type: 'bigint' as const }];
for (let n = Number(state.checkpoint ?? 0) + 1; n <= Number(total); n++) {
  const rows: Row[] = [];
  for (let i = 0; i < Number(perBatch); i++) {
    // Batches spread over days, so that loads create partitions too.
    const ms = Date.UTC(2026, 0, 1) + n * 3_600_000 * 7 + i;
    rows.push({ id: `${n}-${i}`, timestamp: ms, at: new Date(ms), cells: [n], extra: null });
  }
  await destination.load({ columns, rows, seq: String(n) });
  process.stdout.write(`loaded ${n}\n`);
}
await destination.close();
process.stdout.write('done\n');
