/**
 * The items of `source`, with the next one always being read while the consumer works on the
 * current one: a drain's next page is read from the store while the current page's claims or
 * removals are written (and fsynced), so the reads and the disk's waits overlap. Stopping early
 * lets the read in flight end, then closes the source.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = iterator.next();
      // handled here and rethrown where awaited: a read that fails while the consumer is busy is no unhandled rejection
      next.catch(() => undefined);
      yield result.value;
    }
  } finally {
    await next.catch(() => undefined);
    await iterator.return?.();
  }
}
