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

/** Bounds the heap's growth, unless the operator chose it or the heap holds the blobs (memory backend). */
export function boundHeapGrowth(backend: Config['backend']): void {
  if (backend === 'memory' || growthChosen(process.execArgv, process.env.NODE_OPTIONS)) return;
  setFlagsFromString(`${FLAG}=${GROWING_PERCENT}`);
}
