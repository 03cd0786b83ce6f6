import { Counter, Gauge, type Registry } from 'prom-client';

export interface RelayMetrics {
  published: Counter;
  failures: Counter;
}

/** Registers the relay's metrics; the lag gauge asks the database at scrape time, so it is right even when stuck. */
export function registerRelayMetrics(registry: Registry | undefined, lagSeconds: () => Promise<number>): RelayMetrics {
  const registers = registry ? [registry] : [];
  let lastLag = 0;
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest outbox row not yet published to NATS (0 when none)',
    registers,
    async collect() {
      // A failing query must not fail the whole scrape; report the last known value instead.
      lastLag = await lagSeconds().catch(() => lastLag);
      this.set(lastLag);
    },
  });
  return {
    published: new Counter({ name: 'outbox_events_published_total', help: 'Outbox rows published to JetStream', registers }),
    failures: new Counter({ name: 'outbox_publish_failures_total', help: 'Failed attempts to publish an outbox row', registers }),
  };
}
