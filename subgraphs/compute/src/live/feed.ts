import { jetstream, jetstreamManager, parseEnvelope, streamNameFor } from '@gpuaas/events';
import { currentContext, runWithContext, withSpan } from '@gpuaas/telemetry';
import type { AllocationView } from '../allocations/model.js';
import { findAllocationViews } from '../allocations/repository.js';
import { isUuid } from '../allocations/validation.js';
import type { ComputeDeps } from '../deps.js';
import { LiveReads } from './batched-reads.js';
import { ListenerIndex } from './listeners.js';

/**
 * The compute subgraph process's one view of changes: an ordered, ephemeral JetStream consumer on PROVISIONING
 * (from the stream's end when it starts). Each provisioning.* event names an allocation; the row is re-read and
 * handed to every local subscriber of that allocation or its project, so N subscribers cost one consumer and one
 * read per change (none while nobody here listens).
 *
 * Events are taken while a read runs: every allocation named meanwhile is read by the next read, in one statement,
 * once however many events named it. A burst of changes then costs a couple of statements instead of one each, and
 * no event waits behind a queue of reads.
 */
export class LiveFeed {
  readonly allocations = new ListenerIndex<AllocationView>();
  readonly projects = new ListenerIndex<AllocationView>();
  /** What subscribers read when they start, batched so that many starting at once share each query. */
  readonly reads: LiveReads;
  #stopped = false;
  #ready: Promise<void>;
  #stop: (() => void) | undefined;
  /** Allocations named since the last read started, in the order of their newest event: id → its correlation id. */
  #changed = new Map<string, string | undefined>();
  /** The read that takes #changed; it starts once the running one has ended (or at the end of this turn). */
  #next: Promise<void> | undefined;
  #running: Promise<void> | undefined;

  constructor(private readonly deps: ComputeDeps) {
    this.reads = new LiveReads(deps.pool);
    this.#ready = this.#run();
  }

  /** Resolves once the consumer is in place, so a subscriber that reads the current state after it misses nothing. */
  ready(): Promise<void> {
    return this.#ready;
  }

  stop(): void {
    this.#stopped = true;
    this.#stop?.();
  }

  async #run(): Promise<void> {
    const { nats, config, logger } = this.deps;
    const stream = streamNameFor(config.natsNamespace, 'PROVISIONING');
    // The stream is created by the workers; until it exists there is nothing to follow, so keep trying.
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        // Start right after the stream's last message as of now. An ordered consumer is created on the server only
        // after consume() returns, so "deliver new" would miss events published in between; a fixed start does not.
        const { state } = await (await jetstreamManager(nats)).streams.info(stream);
        // An ephemeral ordered consumer per process (every replica must see every event), which startConsumer's
        // competing durable consumers are not; each event still runs in a span and its correlation id below.
        // ci-allow observability_trace_gate: fan-out to this process's subscribers needs its own ordered consumer
        const consumer = await jetstream(nats).consumers.get(stream, startingAt(state.last_seq + 1));
        // ci-allow observability_trace_gate: see above; no acks (ordered consumer), nothing to dead-letter
        const messages = await consumer.consume();
        this.#stop = () => void messages.close();
        void (async () => {
          for await (const message of messages) {
            // Not awaited, so that events keep coming in while a read runs; each span lasts until its event's
            // allocation has been handed on.
            void withSpan('compute.live.event', { 'messaging.destination.name': message.subject }, () => this.#onEvent(message.data)).catch((error: unknown) =>
              logger.warn({ err: error }, 'live feed could not handle an event'),
            );
          }
        })().catch((error: unknown) => logger.warn({ err: error }, 'live feed stopped'));
        return;
      } catch (error) {
        if (attempt % 30 === 0) logger.warn({ err: error, stream }, 'live feed cannot follow the provisioning stream yet');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async #onEvent(data: Uint8Array): Promise<void> {
    let envelope: ReturnType<typeof parseEnvelope>;
    try {
      envelope = parseEnvelope(data);
    } catch {
      return;
    }
    const payload = envelope.payload as { allocation_id?: unknown; project_id?: unknown } | null;
    const allocationId = payload?.allocation_id;
    // A malformed id names no allocation; kept out so that it cannot fail the read it would share with others.
    if (typeof allocationId !== 'string' || !isUuid(allocationId)) return;
    // Every allocation event names its project: nobody here watching this allocation or its project skips the read.
    const projectId = payload?.project_id;
    if (typeof projectId === 'string' && !this.allocations.has(allocationId) && !this.projects.has(projectId)) return;
    await this.publishAllocation(allocationId, envelope.correlation_id);
  }

  /**
   * Re-reads the allocation and hands it to its subscribers (only when anyone here listens). Resolves once a read
   * that started after this call has been handed on; never rejects.
   */
  publishAllocation(allocationId: string, correlationId = currentContext()?.correlationId): Promise<void> {
    // Nobody here listens: skip the read. A subscriber registering meanwhile reads the current state itself.
    if (this.allocations.size === 0 && this.projects.size === 0) return Promise.resolve();
    // Moved to the end: the allocation is handed on where its newest event stands.
    this.#changed.delete(allocationId);
    this.#changed.set(allocationId, correlationId);
    // The first read of a burst waits for the end of this turn, so that the events already received share it.
    const after = this.#running ?? new Promise<void>((resolve) => setImmediate(resolve));
    return (this.#next ??= after.then(() => this.#startRead()));
  }

  #startRead(): Promise<void> {
    const changed = this.#changed;
    this.#changed = new Map();
    this.#next = undefined;
    const running = this.#readAndEmit(changed);
    this.#running = running;
    void running.then(() => {
      if (this.#running === running) this.#running = undefined;
    });
    return running;
  }

  /** One statement for every allocation changed since the previous read; each is handed on once, its newest copy. */
  async #readAndEmit(changed: ReadonlyMap<string, string | undefined>): Promise<void> {
    if (this.allocations.size === 0 && this.projects.size === 0) return;
    const ids = [...changed.keys()];
    let views: AllocationView[];
    try {
      views = await inContext([...changed.values()].at(-1), () => findAllocationViews(this.deps.pool, ids));
    } catch (error) {
      this.deps.logger.warn({ err: error, allocation_ids: ids }, 'live feed could not read allocations');
      return;
    }
    const byId = new Map(views.map((view) => [view.id, view]));
    for (const [id, correlationId] of changed) {
      const view = byId.get(id);
      if (!view) continue;
      try {
        inContext(correlationId, () => {
          this.allocations.emit(view.id, view);
          this.projects.emit(view.projectId, view);
        });
      } catch (error) {
        this.deps.logger.warn({ err: error, allocation_id: id }, 'live feed could not hand an allocation on');
      }
    }
  }
}

/** Runs fn under the event's correlation id, when there is one. */
function inContext<T>(correlationId: string | undefined, fn: () => T): T {
  return correlationId === undefined ? fn() : runWithContext({ correlationId }, fn);
}

type OrderedOptions = Parameters<ReturnType<typeof jetstream>['consumers']['get']>[1];

/** An ordered consumer from stream sequence `sequence` on (JetStream's DeliverPolicy.StartSequence). */
function startingAt(sequence: number): OrderedOptions {
  return { deliver_policy: 'by_start_sequence', opt_start_seq: sequence } as unknown as OrderedOptions;
}

const feeds = new WeakMap<ComputeDeps, LiveFeed>();

/** The process's feed for these deps, started on first use. */
export function liveFeedOf(deps: ComputeDeps): LiveFeed {
  let feed = feeds.get(deps);
  if (!feed) {
    feed = new LiveFeed(deps);
    feeds.set(deps, feed);
    // The NATS connection closing (subgraph shutdown) ends the consumer; stop retrying too.
    void deps.nats.closed().then(() => feed!.stop());
  }
  return feed;
}
