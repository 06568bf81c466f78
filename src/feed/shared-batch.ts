/** Change messages read together, the same array for every subscriber. */
export type SharedBatch = readonly { readonly data: Buffer }[];

/**
 * A batch's bytes as one transport sends them, encoded by the first subscriber that sends the
 * batch and reused by the rest (100 subscribers: one encoding, 100 writes).
 */
export function encodedOnce(encode: (batch: SharedBatch) => Buffer): (batch: SharedBatch) => Buffer {
  const encoded = new WeakMap<SharedBatch, Buffer>();
  return (batch) => {
    let bytes = encoded.get(batch);
    if (bytes === undefined) {
      bytes = encode(batch);
      encoded.set(batch, bytes);
    }
    return bytes;
  };
}
