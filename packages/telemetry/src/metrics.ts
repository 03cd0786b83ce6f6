import { Registry, collectDefaultMetrics, Histogram, Counter } from 'prom-client';

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly messagesHandled: Counter<'subject' | 'outcome'>;
}

/** One Prometheus registry per service instance, so several services composed in one process do not collide. */
export function createMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    messagesHandled: new Counter({
      name: 'messages_handled_total',
      help: 'JetStream messages handled by outcome (ack, nak, term, dead_lettered)',
      labelNames: ['subject', 'outcome'],
      registers: [registry],
    }),
  };
}
