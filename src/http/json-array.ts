import type { Response } from 'express';

/** Resolves when the socket can take more, or is gone. */
export function writable(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes pages of values as one JSON array (each value's JSON by `encode`), as they come, honouring backpressure. The first
 * page is fetched before the status is sent, so an early failure still gets a JSON error;
 * a later one cuts the response (the caller's error handler destroys it).
 */
export async function streamJsonArray<T>(res: Response, pages: AsyncIterable<readonly T[]>, encode: (value: T) => string = JSON.stringify): Promise<void> {
  const iterator = pages[Symbol.asyncIterator]();
  let next = await iterator.next();
  res.status(200).type('application/json');
  let separator = '[';
  try {
    while (!next.done) {
      if (res.destroyed) return; // the client left: stop reading the store
      const text = separator + next.value.map((value) => encode(value)).join(',');
      separator = ',';
      if (!res.write(text)) await writable(res);
      next = await iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
  res.end(separator === '[' ? '[]' : ']');
}
