// A child process for test/export/duckdb.test.ts: opens the DuckDB destination of one job and
// loads numbered batches (batch n has seq "n" and ids "n-0" … "n-k") from its checkpoint on,
// printing "loaded n" after each, until `total` batches are in. With `killAt`, it kill -9s itself
// inside batch killAt's transaction, after its rows and checkpoint are written, before COMMIT.
// A DestinationError (the file held by another process) is printed as one line, exit 2.
// argv: path batches rowsPerBatch [killAt]
import { createDuckDbDestination } from '../../src/export/duckdb/duckdb-destination.js';
import { DestinationError, type Row } from '../../src/export/destination.js';

const [path = '', total = '0', perBatch = '0', killAt] = process.argv.slice(2);
let loading = 0;
const destination = createDuckDbDestination({ kind: 'duckdb', path, table: 'events' }, 'kill_test', {
  beforeCommit: () => {
    if (String(loading) === killAt) process.kill(process.pid, 'SIGKILL');
  },
});
try {
  const state = await destination.open();
  const columns = [{ name: 'n', path: ['n'], type: 'bigint' as const }];
  for (let n = Number(state.checkpoint ?? 0) + 1; n <= Number(total); n++) {
    const rows: Row[] = [];
    for (let i = 0; i < Number(perBatch); i++) {
      const ms = Date.UTC(2026, 0, 1) + n * 60_000 + i;
      rows.push({ id: `${n}-${i}`, timestamp: ms, at: new Date(ms), cells: [n], extra: null });
    }
    loading = n;
    await destination.load({ columns, rows, seq: String(n) });
    process.stdout.write(`loaded ${n}\n`);
  }
  await destination.close();
  process.stdout.write('done\n');
} catch (error) {
  if (!(error instanceof DestinationError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
