import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, initTracing, shutdownTracing, withSpan } from '@gpuaas/telemetry';
import { createEnvelope, outcome, publishEvent, startConsumer, subjects, type RunningConsumer } from '../src/index.js';
import { eventually, openTestBus, silentLogger, type TestBus } from './support/jetstream.js';

describe('trace propagation', () => {
  const exporter = new InMemorySpanExporter();
  let bus: TestBus;
  let consumer: RunningConsumer | undefined;

  beforeAll(async () => {
    initTracing({ serviceName: 'events-test', exporter });
    bus = await openTestBus();
  });
  afterAll(async () => {
    await consumer?.stop();
    await bus.close();
    await shutdownTracing();
  });

  it('continues the publisher trace in the consumer span', async () => {
    let handled = false;
    consumer = await startConsumer({
      js: bus.js,
      jsm: bus.jsm,
      namespace: bus.namespace,
      stream: 'PAYMENTS',
      durable: 'trace-test',
      logger: silentLogger,
      handler: async () => ((handled = true), outcome.ack()),
    });
    const traceId = await withSpan('http request', {}, async (span) => {
      await publishEvent(bus.js, createEnvelope(subjects.paymentsBalanceCredited, {}), { namespace: bus.namespace });
      return span.spanContext().traceId;
    });
    await eventually('the event to be handled', () => handled, Boolean);
    const spans = await eventually('the consumer span', () => exporter.getFinishedSpans(), (s) => s.some((x) => x.name === 'consume payments.balance_credited'));
    const publish = spans.find((s) => s.name === 'publish payments.balance_credited');
    const consume = spans.find((s) => s.name === 'consume payments.balance_credited');
    expect(publish?.spanContext().traceId).toBe(traceId);
    expect(consume?.spanContext().traceId).toBe(traceId);
    expect(consume?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
  });
});
