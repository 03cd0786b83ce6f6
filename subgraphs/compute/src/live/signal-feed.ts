import type { NatsConnection } from '@gpuaas/events';
import type { ComputeDeps } from '../deps.js';
import { findNodeView, type NodeView } from '../nodes/node-views.js';
import type { AgentSample } from '../telemetry/ingest.js';
import { BatchedRead } from './batched-reads.js';
import { ListenerIndex } from './listeners.js';
import { liveNodeWildcard, liveTelemetryWildcard } from './signals.js';

/**
 * A node as one read saw it. Nodes carry no version column, so copies are ordered by when their read STARTED (a
 * process-wide counter): a read that started later saw a state at least as new.
 */
export interface NodeCopy {
  readonly id: string;
  readonly version: number;
  readonly node: NodeView;
}

/** One telemetry report of an allocation (the payload ingest.ts signals), numbered in arrival order. */
export interface TelemetryBatch {
  readonly id: string;
  readonly version: number;
  readonly samples: readonly AgentSample[];
}

/** Listener key of "every node". */
export const ALL_NODES = '*';

/**
 * The process's core-NATS live signals (liveNodeWildcard, liveTelemetryWildcard): one subscription each per process,
 * fanned out in process. A node signal re-reads the node once (batched per tick) for all its subscribers; telemetry
 * signals carry their samples and are passed on as they are.
 */
export class SignalFeed {
  readonly nodes = new ListenerIndex<NodeCopy>();
  readonly telemetry = new ListenerIndex<TelemetryBatch>();
  readonly #subscriptions: ReturnType<NatsConnection['subscribe']>[] = [];
  readonly #nodeRead: BatchedRead<NodeCopy | undefined>;
  readonly #ready: Promise<void>;
  #sequence = 0;

  constructor(private readonly deps: ComputeDeps) {
    this.#nodeRead = new BatchedRead(async (nodeId) => {
      const version = ++this.#sequence;
      const node = await findNodeView(deps.pool, nodeId);
      return node ? { id: node.id, version, node } : undefined;
    });
    const { nats, config } = deps;
    const on = (handle: (payload: unknown) => void) => ({
      callback: (error: Error | null, message: { json<T>(): T }) => {
        if (error) return;
        let payload: unknown;
        try {
          payload = message.json();
        } catch {
          return;
        }
        handle(payload);
      },
    });
    this.#subscriptions.push(nats.subscribe(liveNodeWildcard(config.natsNamespace), on((payload) => this.#onNode(payload))));
    this.#subscriptions.push(nats.subscribe(liveTelemetryWildcard(config.natsNamespace), on((payload) => this.#onTelemetry(payload))));
    // Once the server has our SUBs, a subscriber that listens and then reads misses no signal.
    this.#ready = nats.flush();
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** The node as of a read started now (batched with other reads of the same node in this tick). */
  readNode(nodeId: string): Promise<NodeCopy | undefined> {
    return this.#nodeRead.load(nodeId);
  }

  /** Numbers a copy read outside readNode (a listing) like one read now. */
  stamp(node: NodeView, version = ++this.#sequence): NodeCopy {
    return { id: node.id, version, node };
  }

  nextVersion(): number {
    return ++this.#sequence;
  }

  stop(): void {
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
  }

  #onNode(payload: unknown): void {
    const nodeId = (payload as { nodeId?: unknown } | null)?.nodeId;
    if (typeof nodeId !== 'string') return;
    if (!this.nodes.has(nodeId) && !this.nodes.has(ALL_NODES)) return;
    this.readNode(nodeId).then(
      (copy) => {
        if (!copy) return;
        this.nodes.emit(copy.id, copy);
        this.nodes.emit(ALL_NODES, copy);
      },
      (error: unknown) => this.deps.logger.warn({ err: error, node_id: nodeId }, 'live feed could not read a node'),
    );
  }

  #onTelemetry(payload: unknown): void {
    const { allocationId, samples } = (payload ?? {}) as { allocationId?: unknown; samples?: unknown };
    if (typeof allocationId !== 'string' || !Array.isArray(samples)) return;
    this.telemetry.emit(allocationId, { id: allocationId, version: ++this.#sequence, samples: samples as AgentSample[] });
  }
}

const feeds = new WeakMap<ComputeDeps, SignalFeed>();

/** The process's signal feed for these deps, started on first use. */
export function signalFeedOf(deps: ComputeDeps): SignalFeed {
  let feed = feeds.get(deps);
  if (!feed) {
    feed = new SignalFeed(deps);
    feeds.set(deps, feed);
  }
  return feed;
}
