/**
 * Runs `task` on each item, at most `limit` at once, taking the next item only when a task is done, so
 * an iterator that reads a stream reads no faster than its pieces are sent. At the first failure it
 * takes no more items, waits for the tasks under way, closes the iterator and throws that failure.
 */
export async function eachBounded<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure) {
      const index = next++;
      try {
        const item = await iterator.next();
        if (item.done) return;
        await task(item.value, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failure) {
    await iterator.return?.();
    throw failure.error;
  }
}
