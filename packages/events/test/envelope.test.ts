import { describe, expect, it } from 'vitest';
import { runWithContext } from '@gpuaas/telemetry';
import { createEnvelope, encodeEnvelope, MalformedEnvelopeError, parseEnvelope, subjects } from '../src/index.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event envelope', () => {
  it('creates an envelope with a v7 id, the subject as type, version 1 and the given time and correlation id', () => {
    const envelope = createEnvelope(subjects.provisioningRequested, { allocation_id: 'a1' }, { correlationId: 'req-1', occurredAt: '2026-01-02T03:04:05.000Z' });
    expect(envelope).toEqual({
      event_id: expect.stringMatching(UUID_V7),
      event_type: 'provisioning.requested',
      occurred_at: '2026-01-02T03:04:05.000Z',
      version: 1,
      correlation_id: 'req-1',
      payload: { allocation_id: 'a1' },
    });
  });

  it('takes the correlation id of the work in progress when none is given', () => {
    const envelope = runWithContext({ correlationId: 'from-request' }, () => createEnvelope(subjects.billingBalanceDepleted, {}));
    expect(envelope.correlation_id).toBe('from-request');
  });

  it('gives every event a distinct, time-ordered id', () => {
    const ids = Array.from({ length: 50 }, () => createEnvelope(subjects.provisioningActive, {}).event_id);
    expect(new Set(ids).size).toBe(50);
    expect([...ids].sort()).toEqual(ids);
  });

  it('parses what it encodes', () => {
    const envelope = createEnvelope(subjects.paymentsBalanceCredited, { amount: { amount_minor: 500, currency: 'USD' } });
    expect(parseEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  const valid = { event_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9ea0', event_type: 'provisioning.requested', occurred_at: '2026-11-27T12:00:00Z', version: 1, correlation_id: 'c', payload: {} };
  it.each([
    ['not JSON', '{nope', /not UTF-8 JSON/],
    ['an array', '[]', /not a JSON object/],
    ['a bad event id', JSON.stringify({ ...valid, event_id: '42' }), /event_id/],
    ['a missing event type', JSON.stringify({ ...valid, event_type: undefined }), /event_type/],
    ['an event type that is not a subject', JSON.stringify({ ...valid, event_type: 'Provisioning Requested' }), /event_type/],
    ['a time that is not RFC 3339', JSON.stringify({ ...valid, occurred_at: 'yesterday' }), /occurred_at/],
    ['a fractional version', JSON.stringify({ ...valid, version: 1.5 }), /version/],
    ['an empty correlation id', JSON.stringify({ ...valid, correlation_id: '' }), /correlation_id/],
    ['a missing payload', JSON.stringify({ ...valid, payload: undefined }), /payload/],
    ['a payload that is not an object', JSON.stringify({ ...valid, payload: 'text' }), /payload/],
  ])('rejects %s as malformed', (_case, input, message) => {
    expect(() => parseEnvelope(new TextEncoder().encode(input))).toThrow(MalformedEnvelopeError);
    expect(() => parseEnvelope(input)).toThrow(message);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(() => parseEnvelope(new Uint8Array([0xff, 0xfe, 0x7b]))).toThrow(MalformedEnvelopeError);
  });
});
