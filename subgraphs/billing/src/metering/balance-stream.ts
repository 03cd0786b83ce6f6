/**
 * A hand-written async iterator (an async generator cannot be returned while it awaits, which would leak the
 * listener of a client that unsubscribed) that yields `read()` once at start and again after each `poke`.
 * Pokes that arrive while a read is pending collapse into one more read.
 */
export function pokedStream<T>(
  start: (poke: () => void) => Promise<() => Promise<void>>,
  read: () => Promise<T>,
): AsyncIterableIterator<T> {
  let dirty = true;
  let done = false;
  let wake: (() => void) | undefined;
  let stop: (() => Promise<void>) | undefined;
  const started = start(() => {
    dirty = true;
    wake?.();
  }).then((unsubscribe) => (stop = unsubscribe));

  const finish = async (): Promise<IteratorResult<T>> => {
    done = true;
    wake?.();
    await started.catch(() => undefined);
    await stop?.();
    return { done: true, value: undefined };
  };

  return {
    async next(): Promise<IteratorResult<T>> {
      await started;
      while (!done && !dirty) await new Promise<void>((resolve) => (wake = resolve));
      if (done) return { done: true, value: undefined };
      dirty = false;
      return { done: false, value: await read() };
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
