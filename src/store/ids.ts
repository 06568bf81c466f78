import { randomFillSync } from 'node:crypto';

/*
 * A generated id: <12 hex ms time><8 hex counter><12 hex random>. Time, then this process's
 * counter, keep ids in the order they were made, so CouchDB's and LevelDB's b-trees append
 * instead of splitting random pages. The random part makes the next id unguessable: the format
 * is visible in every 201, and a client that chose a future id (with time and counter alone it
 * could be predicted) would have made two blobs share one `_id`. 48 random bits from the CSPRNG
 * per id; the random bytes are drawn 6 KiB at a time (a call per id cost ~1 µs).
 */
const RANDOM_BYTES = 6;
const bytes = new Uint8Array(1024 * RANDOM_BYTES);
const pool = Buffer.from(bytes.buffer);
let used = pool.length;
let counter = 0;

function randomHex(): string {
  if (used === pool.length) {
    randomFillSync(bytes);
    used = 0;
  }
  used += RANDOM_BYTES;
  return pool.toString('hex', used - RANDOM_BYTES, used);
}

export function newBlobId(): string {
  counter = (counter + 1) >>> 0;
  return Date.now().toString(16).padStart(12, '0') + counter.toString(16).padStart(8, '0') + randomHex();
}

/** Gives each blob without an `_id` a new one, so the caller knows every id before the write. */
export function withIds<B extends { _id?: string | undefined }>(blobs: readonly B[]): (B & { _id: string })[] {
  return blobs.map((blob) => (blob._id ? (blob as B & { _id: string }) : { _id: newBlobId(), ...blob }));
}
