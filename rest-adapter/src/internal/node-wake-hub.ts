import type { NatsConnection } from '@gpuaas/events';
import { nodeWakeWildcard } from '@gpuaas/subgraph-compute/nodes';

type Wake = () => void;

/**
 * One NATS subscription per process on `compute.node-wake.>`, fanned out in process to the long-polls held for
 * each node. A held poll costs a map entry and one timer; no database connection is held while it waits.
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

export function createNodeWakeHub(nats: NatsConnection, namespace: string): NodeWakeHub {
  const waiters = new Map<string, Set<Wake>>();
  const prefix = nodeWakeWildcard(namespace).slice(0, -1);
  const subscription = nats.subscribe(nodeWakeWildcard(namespace), {
    callback: (error, message) => {
      if (error) return;
      const nodeId = message.subject.slice(prefix.length);
      for (const wake of waiters.get(nodeId) ?? []) wake();
    },
  });

  return {
    listen(nodeId) {
      let woken = false;
      let pending: Wake | undefined;
      const wake: Wake = () => {
        woken = true;
        pending?.();
      };
      let set = waiters.get(nodeId);
      if (!set) waiters.set(nodeId, (set = new Set()));
      set.add(wake);
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
          pending?.();
          set!.delete(wake);
          if (set!.size === 0 && waiters.get(nodeId) === set) waiters.delete(nodeId);
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
