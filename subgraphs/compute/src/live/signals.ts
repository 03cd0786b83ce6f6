import { subjectFor, type NatsConnection } from '@gpuaas/events';

/**
 * Live signals are core-NATS messages (not JetStream): a writer sends one after its commit so that every subgraph
 * replica re-reads the changed object and pushes it to its subscribers. Losing one only delays a dashboard until the
 * next change; durable state changes of allocations travel as provisioning.* events instead.
 */
export function liveNodeSubject(namespace: string, nodeId: string): string {
  return subjectFor(namespace, `compute.live.node.${nodeId}`);
}

export function liveTelemetrySubject(namespace: string, allocationId: string): string {
  return subjectFor(namespace, `compute.live.telemetry.${allocationId}`);
}

/** Every node signal of a namespace (what the live feed subscribes to). */
export function liveNodeWildcard(namespace: string): string {
  return subjectFor(namespace, 'compute.live.node.>');
}

/** Every telemetry signal of a namespace (what the live feed subscribes to). */
export function liveTelemetryWildcard(namespace: string): string {
  return subjectFor(namespace, 'compute.live.telemetry.>');
}

/**
 * Publishes a live signal; call it after COMMIT. Never throws: a signal that cannot be sent (connection closed or
 * draining) must not fail the change that was already committed.
 */
export function publishLive(nc: NatsConnection, subject: string, payload: unknown): void {
  try {
    nc.publish(subject, JSON.stringify(payload));
  } catch {
    // The change is committed; subscribers catch up on the next change or when they resubscribe.
  }
}
