import { jetstream, jetstreamManager, parseEnvelope, streamNameFor } from '@gpuaas/events';
import { runWithContext, withSpan } from '@gpuaas/telemetry';
import type { AllocationView } from '../allocations/model.js';
import { findAllocationView } from '../allocations/repository.js';
import type { ComputeDeps } from '../deps.js';
import { LiveReads } from './batched-reads.js';
import { ListenerIndex } from './listeners.js';

/**
 * The compute subgraph process's one view of changes: an ordered, ephemeral JetStream consumer on PROVISIONING
 * (from the stream's end when it starts). Each provisioning.* event names an allocation; the row is re-read once and
 * handed to every local subscriber of that allocation or its project, so N subscribers cost one consumer and one
 * read per change (none while nobody here listens).
 */
export class LiveFeed {
  readonly allocations = new ListenerIndex<AllocationView>();
  readonly projects = new ListenerIndex<AllocationView>();
  /** What subscribers read when they start, batched so that many starting at once share each query. */
  readonly reads: LiveReads;
  #stopped = false;
  #ready: Promise<void>;
  #stop: (() => void) | undefined;

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
          for await (const message of messages) await withSpan('compute.live.event', { 'messaging.destination.name': message.subject }, () => this.#onEvent(message.data));
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
    if (typeof allocationId !== 'string') return;
    // Every allocation event names its project: nobody here watching this allocation or its project skips the read.
    const projectId = payload?.project_id;
    if (typeof projectId === 'string' && !this.allocations.has(allocationId) && !this.projects.has(projectId)) return;
    await runWithContext({ correlationId: envelope.correlation_id }, () => this.publishAllocation(allocationId));
  }

  /** Re-reads one allocation and hands it to its subscribers (only when anyone here listens). */
  async publishAllocation(allocationId: string): Promise<void> {
    // Nobody here listens: skip the read. A subscriber registering meanwhile reads the current state itself.
    if (this.allocations.size === 0 && this.projects.size === 0) return;
    try {
      const view = await findAllocationView(this.deps.pool, allocationId);
      if (!view) return;
      this.allocations.emit(view.id, view);
      this.projects.emit(view.projectId, view);
    } catch (error) {
      this.deps.logger.warn({ err: error, allocation_id: allocationId }, 'live feed could not read an allocation');
    }
  }
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
