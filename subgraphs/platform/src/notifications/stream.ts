/**
 * A hand-written async iterator over ids pushed by `start` (an async generator cannot be returned while it awaits,
 * which would leak the listener of a client that unsubscribed). Each id is turned into a value by `read`; ids whose
 * read answers null (e.g. a row not visible to the caller) are skipped. Resolves once `start` is listening, so
 * nothing committed after the subscription was accepted is missed; `fail` ends the stream with an error after the
 * ids already queued.
 */
export async function openQueuedStream<T>(
  start: (push: (id: string) => void, fail: (error: unknown) => void) => Promise<() => Promise<void>>,
  read: (id: string) => Promise<T | null>,
): Promise<AsyncIterableIterator<T>> {
  const queue: string[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const stop = await start(
    (id) => {
      queue.push(id);
      wake?.();
    },
    (error) => {
      failure = { error };
      wake?.();
    },
  );

  const finish = async (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      wake?.();
      await stop();
    }
    return { done: true, value: undefined };
  };

  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        while (!done && !failure && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        if (done) return { done: true, value: undefined };
        // Ids already queued were committed before the failure; deliver them, then end with the error.
        if (queue.length === 0 && failure) {
          await finish();
          throw failure.error;
        }
        const value = await read(queue.shift()!);
        if (value !== null) return { done: false, value };
      }
    },
    return: finish,
    async throw(error?: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
