import type { AllocationView } from '../allocations/model.js';

/** What a stream needs to know of a value to order it: which object it is and how new that copy is. */
export interface Versioned {
  readonly id: string;
  readonly version: number;
}

/**
 * One subscriber's stream of the newest state of one or more objects.
 *
 * The listener is registered BEFORE the current state is read, so a change that lands between the two is not missed;
 * whatever the listener hears meanwhile is held and, like every later copy, dropped when it is not newer (by
 * `version`) than what this subscriber was already sent. Pending copies are coalesced per object (only the newest is
 * kept), so a slow client holds at most one copy per object instead of an unbounded queue.
 *
 * Written by hand (not an async generator) so that `return()` — the client unsubscribing — removes the listener at
 * once, even while a `next()` is pending.
 */
export async function versionedStream<T extends Versioned>(
  listen: (push: (value: T) => void) => () => void,
  loadCurrent: () => Promise<readonly T[]>,
  map: (value: T) => unknown,
): Promise<AsyncIterableIterator<unknown>> {
  const sent = new Map<string, number>();
  const pending = new Map<string, T>();
  let loaded = false;
  const early: T[] = [];
  let waiting: ((result: IteratorResult<unknown>) => void) | undefined;
  let finished = false;

  const offer = (value: T) => {
    if (finished) return;
    if ((sent.get(value.id) ?? -Infinity) >= value.version) return;
    const queued = pending.get(value.id);
    if (queued && queued.version >= value.version) return;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      sent.set(value.id, value.version);
      resolve({ done: false, value: map(value) });
      return;
    }
    pending.set(value.id, value);
  };

  const unlisten = listen((value) => {
    if (loaded) offer(value);
    else early.push(value);
  });
  try {
    for (const value of await loadCurrent()) offer(value);
  } catch (error) {
    unlisten();
    throw error;
  }
  loaded = true;
  for (const value of early.splice(0)) offer(value);

  const iterator: AsyncIterableIterator<unknown> = {
    next() {
      if (finished) return Promise.resolve({ done: true, value: undefined });
      const first = pending.values().next();
      if (!first.done) {
        const value = first.value;
        pending.delete(value.id);
        sent.set(value.id, value.version);
        return Promise.resolve({ done: false, value: map(value) });
      }
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      if (!finished) {
        finished = true;
        unlisten();
        pending.clear();
        waiting?.({ done: true, value: undefined });
        waiting = undefined;
      }
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** The allocation flavour: an allocation's `version` grows with every state change (transitions.ts). */
export function allocationStream(
  listen: (push: (view: AllocationView) => void) => () => void,
  loadCurrent: () => Promise<readonly AllocationView[]>,
  map: (view: AllocationView) => unknown,
): Promise<AsyncIterableIterator<unknown>> {
  return versionedStream(listen, loadCurrent, map);
}
