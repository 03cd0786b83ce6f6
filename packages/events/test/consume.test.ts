import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { currentCorrelationId, createMetrics } from '@gpuaas/telemetry';
import { createEnvelope, outcome, publishEvent, startConsumer, subjectFor, subjects, type ConsumerOptions, type DeadLetterPayload, type EventEnvelope, type RunningConsumer } from '../src/index.js';
import { eventually, openTestBus, silentLogger, storedMessages, type TestBus } from './support/jetstream.js';

describe('startConsumer', () => {
  let bus: TestBus;
  const running: RunningConsumer[] = [];
  let durableCounter = 0;

  beforeAll(async () => {
    bus = await openTestBus();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });
  afterAll(async () => {
    await bus.close();
  });

  async function consume(options: Partial<ConsumerOptions> & Pick<ConsumerOptions, 'handler'>): Promise<{ consumer: RunningConsumer; durable: string }> {
    const durable = options.durable ?? `d${++durableCounter}`;
    const consumer = await startConsumer({
      js: bus.js,
      jsm: bus.jsm,
      namespace: bus.namespace,
      stream: 'PROVISIONING',
      retryDelayMs: () => 10,
      logger: silentLogger,
      ...options,
      durable,
    });
    running.push(consumer);
    return { consumer, durable };
  }

  /** Each test filters on its own subject, so messages of earlier tests stay out of its way. */
  function publish<P>(subject: Parameters<typeof createEnvelope>[0], payload: P, correlationId = 'corr-test') {
    const envelope = createEnvelope(subject, payload, { correlationId });
    return publishEvent(bus.js, envelope, { namespace: bus.namespace }).then(() => envelope);
  }

  async function deadLetters(originalEventId?: string): Promise<Array<{ subject: string; data: EventEnvelope<DeadLetterPayload> }>> {
    const all = (await storedMessages(bus, 'DLQ')) as Array<{ subject: string; data: EventEnvelope<DeadLetterPayload> }>;
    return originalEventId ? all.filter((m) => m.data.payload.original_envelope?.['event_id'] === originalEventId) : all;
  }

  it('hands an event to the handler in its correlation-id context and acks it', async () => {
    const seen: Array<{ envelope: EventEnvelope; correlationId: string; deliveryCount: number; subject: string }> = [];
    const metrics = createMetrics('consume-test');
    const { durable } = await consume({
      filterSubjects: [subjects.provisioningRequested],
      metrics,
      handler: async (envelope, context) => {
        seen.push({ envelope, correlationId: currentCorrelationId(), deliveryCount: context.deliveryCount, subject: context.subject });
        return outcome.ack();
      },
    });
    const sent = await publish(subjects.provisioningRequested, { allocation_id: 'a1' }, 'corr-ack');

    await eventually('the event to be handled', () => seen.length, (n) => n === 1);
    expect(seen[0]).toEqual({ envelope: sent, correlationId: 'corr-ack', deliveryCount: 1, subject: 'provisioning.requested' });
    await eventually('the ack to reach the server', async () => (await bus.jsm.consumers.info(`${bus.namespace}_PROVISIONING`, durable)).num_ack_pending, (n) => n === 0);
    const counted = await metrics.registry.getSingleMetricAsString('messages_handled_total');
    expect(counted).toContain('outcome="ack"');
  });

  it('retries a handler that throws and acks once it succeeds', async () => {
    let calls = 0;
    await consume({
      filterSubjects: [subjects.provisioningActive],
      handler: async () => {
        calls += 1;
        if (calls < 3) throw new Error('database briefly unavailable');
        return outcome.ack();
      },
    });
    const sent = await publish(subjects.provisioningActive, { allocation_id: 'a2' });
    await eventually('three deliveries', () => calls, (n) => n === 3);
    expect(await deadLetters(sent.event_id)).toEqual([]);
  });

  it('redelivers a nak only after the requested delay', async () => {
    const deliveredAt: number[] = [];
    await consume({
      filterSubjects: [subjects.provisioningLost],
      handler: async () => {
        deliveredAt.push(Date.now());
        return deliveredAt.length === 1 ? outcome.nak(400) : outcome.ack();
      },
    });
    await publish(subjects.provisioningLost, {});
    await eventually('the redelivery', () => deliveredAt.length, (n) => n === 2);
    expect(deliveredAt[1]! - deliveredAt[0]!).toBeGreaterThanOrEqual(380);
  });

  it('dead-letters a message that fails maxDeliver times, with its envelope, delivery count and last error', async () => {
    let calls = 0;
    const { durable } = await consume({
      filterSubjects: [subjects.provisioningFailed],
      maxDeliver: 3,
      handler: async () => {
        calls += 1;
        throw new Error(`boom ${calls}`);
      },
    });
    const sent = await publish(subjects.provisioningFailed, { allocation_id: 'a3' }, 'corr-poison');

    const [letter] = await eventually('the dead letter', () => deadLetters(sent.event_id), (l) => l.length === 1);
    expect(calls).toBe(3);
    expect(letter!.subject).toBe(subjectFor(bus.namespace, 'dlq.provisioning.failed'));
    expect(letter!.data).toMatchObject({ event_type: 'dlq.provisioning.failed', correlation_id: 'corr-poison', version: 1 });
    expect(letter!.data.payload).toEqual({
      original_subject: 'provisioning.failed',
      original_envelope: sent,
      original_data_base64: null,
      consumer: durable,
      stream_sequence: expect.any(Number),
      deliveries: 3,
      last_error: { code: 'handler_error', message: 'Error: boom 3' },
      dead_lettered_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    await eventually('the original to be settled', async () => (await bus.jsm.consumers.info(`${bus.namespace}_PROVISIONING`, durable)).num_ack_pending, (n) => n === 0);
    expect(calls).toBe(3);
  });

  it('dead-letters a malformed message at once, with the original as it came, without calling the handler', async () => {
    let calls = 0;
    await consume({ filterSubjects: [subjects.provisioningReleaseFailed], handler: async () => ((calls += 1), outcome.ack()) });
    const subject = subjectFor(bus.namespace, subjects.provisioningReleaseFailed);
    await bus.js.publish(subject, '{"not":"an envelope","correlation_id":"corr-json"}');
    await bus.js.publish(subject, 'plain text, not JSON');

    const letters = await eventually(
      'both dead letters',
      async () => (await deadLetters()).filter((l) => l.data.payload.original_subject === 'provisioning.release_failed'),
      (l) => l.length === 2,
    );
    expect(calls).toBe(0);
    const [json, text] = letters.map((l) => l.data);
    expect(json!.payload).toMatchObject({ original_envelope: { not: 'an envelope', correlation_id: 'corr-json' }, original_data_base64: null, deliveries: 1 });
    expect(json!.payload.last_error).toEqual({ code: 'malformed_envelope', message: expect.stringMatching(/event_id/) });
    expect(json!.correlation_id).toBe('corr-json');
    expect(text!.payload).toMatchObject({ original_envelope: null, deliveries: 1, last_error: { code: 'malformed_envelope' } });
    expect(Buffer.from(text!.payload.original_data_base64!, 'base64').toString()).toBe('plain text, not JSON');
  });

  it('dead-letters a message the handler terminates, after one delivery', async () => {
    let calls = 0;
    await consume({
      filterSubjects: [subjects.provisioningForceReleaseRequested],
      handler: async () => ((calls += 1), outcome.term('allocation does not exist', 'not_found')),
    });
    const sent = await publish(subjects.provisioningForceReleaseRequested, {});
    const [letter] = await eventually('the dead letter', () => deadLetters(sent.event_id), (l) => l.length === 1);
    expect(letter!.data.payload).toMatchObject({ last_error: { code: 'not_found', message: 'allocation does not exist' }, deliveries: 1 });
    expect(calls).toBe(1);
  });

  it('shares the work of one durable between replicas, each event handled once', async () => {
    const handledBy = new Map<string, string[]>();
    const handler = (replica: string) => async (envelope: EventEnvelope) => {
      handledBy.set(envelope.event_id, [...(handledBy.get(envelope.event_id) ?? []), replica]);
      return outcome.ack();
    };
    const { durable } = await consume({ filterSubjects: [subjects.provisioningReleasingRequested], handler: handler('a'), batchSize: 2 });
    await consume({ durable, filterSubjects: [subjects.provisioningReleasingRequested], handler: handler('b'), batchSize: 2 });
    const sent = await Promise.all(Array.from({ length: 40 }, (_, i) => publish(subjects.provisioningReleasingRequested, { i })));

    await eventually('all events handled', () => handledBy.size, (n) => n === 40);
    await eventually('no acks pending', async () => (await bus.jsm.consumers.info(`${bus.namespace}_PROVISIONING`, durable)).num_ack_pending, (n) => n === 0);
    expect([...handledBy.values()].every((replicas) => replicas.length === 1)).toBe(true);
    expect(new Set(handledBy.keys())).toEqual(new Set(sent.map((e) => e.event_id)));
  });

  it('stops after the message in hand is finished, and the durable resumes where it stopped', async () => {
    let release!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const finished: string[] = [];
    const { consumer, durable } = await consume({
      filterSubjects: [subjects.provisioningReleasingCompleted],
      handler: async (envelope) => {
        entered();
        await inHandler;
        finished.push(envelope.event_id);
        return outcome.ack();
      },
    });
    const first = await publish(subjects.provisioningReleasingCompleted, { n: 1 });
    await handlerEntered;

    let stopped = false;
    const stopping = consumer.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toEqual([first.event_id]);

    const second = await publish(subjects.provisioningReleasingCompleted, { n: 2 });
    const later: string[] = [];
    await consume({ durable, filterSubjects: [subjects.provisioningReleasingCompleted], handler: async (e) => (later.push(e.event_id), outcome.ack()) });
    await eventually('the second event after restart', () => later, (ids) => ids.includes(second.event_id));
    expect(later).not.toContain(first.event_id);
  });

  it('terminates a dead letter it cannot handle instead of dead-lettering it again', async () => {
    let calls = 0;
    const { durable } = await consume({
      stream: 'DLQ',
      filterSubjects: ['dlq.provisioning.requested'],
      maxDeliver: 2,
      handler: async () => {
        calls += 1;
        throw new Error('cannot record');
      },
    });
    await publish('dlq.provisioning.requested', { reason: 'test' });
    await eventually('both deliveries', () => calls, (n) => n === 2);
    await eventually('the message to be settled', async () => (await bus.jsm.consumers.info(`${bus.namespace}_DLQ`, durable)).num_ack_pending, (n) => n === 0);
    expect((await deadLetters()).filter((l) => l.subject.includes('dlq.dlq'))).toEqual([]);
  });
});
