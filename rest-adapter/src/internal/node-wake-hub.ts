import type { NatsConnection } from '@gpuaas/events';
import { nodeWakeWildcard } from '@gpuaas/subgraph-compute/nodes';

/**
 * One NATS subscription per process on `compute.node-wake.>`, handed out in process to the long-polls held for
 * each node. A held poll costs a map entry and one timer; no database connection is held while it waits.
 *
 * One wake (one queued task) goes to ONE held poll of the node, not all of them: an agent with 16 task loops would
 * otherwise answer every queued task with 16 lease queries, 15 of which find nothing. A wake goes to a poll that is
 * waiting; if every poll is busy claiming, it is remembered on one of them, which claims once more. A poll that
 * leaves with a wake it did not use (it leased an earlier task, or its agent went away) hands the wake on.
 */
export interface NodeWakeHub {
  /** Registers a waiter before the caller's first claim, so a wake between claim and wait is never missed. */
  listen(nodeId: string): NodeWakeListener;
  /** Held polls right now (for tests and metrics). */
  size(): number;
  close(): void;
}

export interface NodeWakeListener {
  /** Resolves on a wake (true) or when `ms` pass or the signal aborts (false); one-shot, then re-armed. */
  next(ms: number, signal?: AbortSignal): Promise<boolean>;
  stop(): void;
}

interface Waiter {
  /** Waiting in next() right now. */
  waiting(): boolean;
  /** Holds a wake it has not used yet. */
  holdsWake(): boolean;
  wake(): void;
}

export function createNodeWakeHub(nats: NatsConnection, namespace: string): NodeWakeHub {
  const waiters = new Map<string, Set<Waiter>>();
  const prefix = nodeWakeWildcard(namespace).slice(0, -1);

  function dispatch(nodeId: string): void {
    const set = waiters.get(nodeId);
    if (!set) return;
    let busy: Waiter | undefined;
    // Insertion order: the longest-held poll first.
    for (const waiter of set) {
      if (waiter.waiting()) {
        waiter.wake();
        return;
      }
      if (!busy && !waiter.holdsWake()) busy = waiter;
    }
    // Every poll is mid-claim: one of them claims again. If each already holds a wake, the polls the agent sends
    // after its current tasks claim first thing, so nothing is lost.
    busy?.wake();
  }

  const subscription = nats.subscribe(nodeWakeWildcard(namespace), {
    callback: (error, message) => {
      if (error) return;
      dispatch(message.subject.slice(prefix.length));
    },
  });

  return {
    listen(nodeId) {
      let woken = false;
      let pending: (() => void) | undefined;
      const waiter: Waiter = {
        waiting: () => pending !== undefined,
        holdsWake: () => woken,
        wake() {
          woken = true;
          pending?.();
        },
      };
      let set = waiters.get(nodeId);
      if (!set) waiters.set(nodeId, (set = new Set()));
      set.add(waiter);
      return {
        next(ms, signal) {
          if (woken) {
            woken = false;
            return Promise.resolve(true);
          }
          if (signal?.aborted) return Promise.resolve(false);
          return new Promise<boolean>((resolve) => {
            const finish = (value: boolean) => {
              clearTimeout(timer);
              signal?.removeEventListener('abort', onAbort);
              pending = undefined;
              woken = false;
              resolve(value);
            };
            const onAbort = () => finish(false);
            const timer = setTimeout(() => finish(false), Math.max(0, ms));
            pending = () => finish(true);
            signal?.addEventListener('abort', onAbort, { once: true });
          });
        },
        stop() {
          const unused = woken;
          woken = false;
          pending?.();
          set!.delete(waiter);
          if (set!.size === 0 && waiters.get(nodeId) === set) waiters.delete(nodeId);
          if (unused) dispatch(nodeId);
        },
      };
    },
    size() {
      let count = 0;
      for (const set of waiters.values()) count += set.size;
      return count;
    },
    close() {
      subscription.unsubscribe();
      waiters.clear();
    },
  };
}
