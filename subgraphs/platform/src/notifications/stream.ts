/**
 * A hand-written async iterator over ids pushed by `start` (an async generator cannot be returned while it awaits,
 * which would leak the listener of a client that unsubscribed). Each id is turned into a value by `read`; ids whose
 * read answers null (e.g. a row not visible to the caller) are skipped. Resolves once `start` is listening, so
 * nothing committed after the subscription was accepted is missed.
 */
export async function openQueuedStream<T>(
  start: (push: (id: string) => void) => Promise<() => Promise<void>>,
  read: (id: string) => Promise<T | null>,
): Promise<AsyncIterableIterator<T>> {
  const queue: string[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const stop = await start((id) => {
    queue.push(id);
    wake?.();
  });

  const finish = async (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      wake?.();
      await stop();
    }
    return { done: true, value: undefined };
  };

  return {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        while (!done && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        if (done) return { done: true, value: undefined };
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
      return this;
    },
  };
}
