import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope, publishEvent, subjects } from '../src/index.js';
import { openTestBus, type TestBus } from './support/jetstream.js';

describe('publishEvent', () => {
  let bus: TestBus;
  beforeAll(async () => {
    bus = await openTestBus();
  });
  afterAll(async () => {
    await bus.close();
  });

  it('stores an event once on its namespaced subject, with Nats-Msg-Id = event_id, and flags a republish as duplicate', async () => {
    const envelope = createEnvelope(subjects.billingLowBalanceWarning, { user_id: 'u1' }, { correlationId: 'corr-7' });
    const first = await publishEvent(bus.js, envelope, { namespace: bus.namespace });
    const second = await publishEvent(bus.js, envelope, { namespace: bus.namespace });

    expect(first).toMatchObject({ stream: `${bus.namespace}_BILLING`, duplicate: false });
    expect(second).toMatchObject({ stream: `${bus.namespace}_BILLING`, seq: first.seq, duplicate: true });
    const info = await bus.jsm.streams.info(`${bus.namespace}_BILLING`);
    expect(info.state.messages).toBe(1);

    const stored = await bus.jsm.streams.getMessage(`${bus.namespace}_BILLING`, { seq: first.seq });
    expect(stored?.subject).toBe(`${bus.namespace}.billing.low_balance_warning`);
    expect(stored?.header.get('Nats-Msg-Id')).toBe(envelope.event_id);
    expect(stored?.header.get('Correlation-Id')).toBe('corr-7');
    expect(stored?.json()).toEqual(envelope);
  });
});
