import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { streamNameFor, streamNames, subjectFor, type StreamName } from './subjects.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface StreamDefinition {
  /** The captured subjects, without a namespace. */
  readonly subjects: string;
  readonly maxAgeMs: number;
  readonly description: string;
}

/** Limits retention keeps messages for every consumer until max age; DLQ keeps them longest for investigation. */
export const streamDefinitions: { readonly [S in StreamName]: StreamDefinition } = {
  PROVISIONING: { subjects: 'provisioning.>', maxAgeMs: 7 * DAY_MS, description: 'Allocation lifecycle events' },
  BILLING: { subjects: 'billing.>', maxAgeMs: 7 * DAY_MS, description: 'Balance and metering events' },
  PAYMENTS: { subjects: 'payments.>', maxAgeMs: 14 * DAY_MS, description: 'Payment provider events' },
  DLQ: { subjects: 'dlq.>', maxAgeMs: 30 * DAY_MS, description: 'Dead letters: messages that could not be handled' },
};

/** Publishes with the same Nats-Msg-Id inside this window are dropped by JetStream (the outbox relay's safety net). */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export interface StreamOptions {
  namespace: string;
  /** Replicas per stream; 1 for a single server, 3 for a production cluster. */
  replicas?: number;
}

export function streamConfigFor(stream: StreamName, options: StreamOptions): Partial<StreamConfig> & { name: string } {
  const definition = streamDefinitions[stream];
  return {
    name: streamNameFor(options.namespace, stream),
    description: definition.description,
    subjects: [subjectFor(options.namespace, definition.subjects)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(definition.maxAgeMs),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: options.replicas ?? 1,
  };
}

/**
 * Creates the four streams, or brings existing ones to the current configuration. Safe to call from every replica
 * at start-up, concurrently: a create that loses the race turns into an update.
 */
export async function initStreams(jsm: JetStreamManager, options: StreamOptions): Promise<void> {
  for (const stream of streamNames) {
    const config = streamConfigFor(stream, options);
    if (await streamExists(jsm, config.name)) {
      await jsm.streams.update(config.name, config);
      continue;
    }
    try {
      await jsm.streams.add(config);
    } catch (error) {
      if (!(await streamExists(jsm, config.name))) throw error;
      await jsm.streams.update(config.name, config);
    }
  }
}

/** Deletes a namespace's streams (tests, preview environments). Refuses the unnamespaced production streams. */
export async function deleteStreams(jsm: JetStreamManager, options: { namespace: string }): Promise<void> {
  if (!options.namespace) throw new Error('deleteStreams needs a namespace; it never deletes the contract streams');
  for (const stream of streamNames) {
    const name = streamNameFor(options.namespace, stream);
    if (await streamExists(jsm, name)) await jsm.streams.delete(name);
  }
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return false;
    throw error;
  }
}
