import { setFlagsFromString } from 'node:v8';
import type { Config } from './config.js';

const FLAG = '--heap-growing-percent';
/**
 * After a full collection V8 lets the heap grow up to 4× what survived before collecting again:
 * on a busy service ~250 MB of garbage piled up while ~30-60 MB was live. Growing at most 2×
 * kept the peak ~100 MiB lower at the same blobs/s (the former pouchdb backend, 300,000 blobs filled, then read).
 * A soft bound, unlike --max-old-space-size: a heap that must grow still grows, and a large
 * batch is never cut short by an out-of-memory. Not for the memory backend: its heap is the
 * store, and collecting it twice as often cost batched ingest 10-20 % (86,000 → 69,000-78,000
 * blobs/s in the bench).
 */
const GROWING_PERCENT = 100;

/** Whether the operator set the heap's growth (`node --heap-growing-percent=N`, or in NODE_OPTIONS). */
export function growthChosen(execArgv: readonly string[], nodeOptions = ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => {
    const flag = arg.replace(/_/g, '-');
    return flag === FLAG || flag.startsWith(`${FLAG}=`); // `--flag N` or `--flag=N`
  });
}

/**
 * The exporter's heap, grown by a fixed factor after each full GC rather than by V8's own
 * heuristic, which lets the old space of a backfill grow to several times what is live before it
 * collects it: a batch's rows all live until it loads, so they are promoted to the old space, and
 * each batch leaves its ~30-45 MB as garbage there. Measured (bench/export.ts, 300,000 blobs,
 * default batch.max_blobs 10,000, a shared 2-core machine, alternating runs): peak RSS files
 * 263-268 -> 185 MiB, PostgreSQL 290-415 -> 178 MiB, DuckDB 407-442 -> 335-383 MiB at 50 %,
 * exporter CPU 22-27 -> 22-28 µs/blob, blobs/s within the machine's noise. Measured again after
 * the row encoders got faster (same bench, files and PostgreSQL, 2 alternating pairs): RSS files
 * 221-243 -> 181-184 MiB, PostgreSQL 213-214 -> 154-158 MiB, for CPU files 15.7-18.2 -> 17.9-22.1
 * µs/blob, PostgreSQL 15.2-16.4 -> 18.2-18.8, blobs/s ~10 % lower; 100 % instead of 50 % was no
 * cheaper (2 more pairs, within the noise). --max-old-space-size=256 bounded it for +30 % CPU.
 * At 1,000,000 blobs into files on a quiet machine (npm run bench:export, back to back): 247 -> 193
 * MiB, 51,900 -> 41,400 blobs/s (docs/export.md, Speed).
 */
const EXPORTER_GROWING_PERCENT = 50;

/** Sets the heap's growth for the rest of the process (read by V8 at each full GC), unless the operator chose it. */
function boundGrowth(percent: number): void {
  if (growthChosen(process.execArgv, process.env.NODE_OPTIONS)) return;
  setFlagsFromString(`${FLAG}=${percent}`);
}

/** The service's heap: bounded, unless the heap holds the blobs (memory backend). */
export function boundHeapGrowth(backend: Config['backend']): void {
  if (backend !== 'memory') boundGrowth(GROWING_PERCENT);
}

/** The exporter's heap (`kpiggybank export`). */
export function boundExporterHeapGrowth(): void {
  boundGrowth(EXPORTER_GROWING_PERCENT);
}
