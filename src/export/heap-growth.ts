// The exporter's heap, grown by a fixed factor after each full GC rather than by V8's own
// heuristic, which lets the old space of a backfill grow to several times what is live before it
// collects it: a batch's rows all live until it loads, so they are promoted to the old space, and
// each batch leaves its ~30-45 MB as garbage there. Measured (bench/export.ts, 300,000 blobs,
// default batch.max_blobs 10,000, a shared 2-core machine, alternating runs): peak RSS files
// 263-268 -> 185 MiB, PostgreSQL 290-415 -> 178 MiB, DuckDB 407-442 -> 335-383 MiB at 50 %,
// exporter CPU 22-27 -> 22-28 µs/blob, blobs/s within the machine's noise. Measured again after
// the row encoders got faster (same bench, files and PostgreSQL, 2 alternating pairs): RSS files
// 221-243 -> 181-184 MiB, PostgreSQL 213-214 -> 154-158 MiB, for CPU files 15.7-18.2 -> 17.9-22.1
// µs/blob, PostgreSQL 15.2-16.4 -> 18.2-18.8, blobs/s ~10 % lower; 100 % instead of 50 % was no
// cheaper (2 more pairs, within the noise). --max-old-space-size=256 bounded it for +30 % CPU.
import { setFlagsFromString } from 'node:v8';

/** Growth after a full GC: the heap's limit becomes (1 + this / 100) x what survived it. */
const HEAP_GROWING_PERCENT = 50;

/** Sets the heap's growth for the rest of the process, unless node was started with its own. */
export function boundHeapGrowth(): void {
  if (process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent') || arg.startsWith('--heap_growing_percent'))) return;
  // Read by V8 at each full GC's new limit, so setting it once the process runs takes effect.
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
