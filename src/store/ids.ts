import { randomBytes } from 'node:crypto';

// Ids that sort by creation time keep CouchDB's and LevelDB's b-trees appending instead of
// splitting random pages: <12 hex ms time><8 hex per-process random><8 hex counter>.
const processTag = randomBytes(4).toString('hex');
let counter = 0;

function newBlobId(): string {
  counter = (counter + 1) >>> 0;
  return Date.now().toString(16).padStart(12, '0') + processTag + counter.toString(16).padStart(8, '0');
}

/** Gives each blob without an `_id` a new one, so the caller knows every id before the write. */
export function withIds<B extends { _id?: string | undefined }>(blobs: readonly B[]): (B & { _id: string })[] {
  return blobs.map((blob) => (blob._id ? (blob as B & { _id: string }) : { _id: newBlobId(), ...blob }));
}
