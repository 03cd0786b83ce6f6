import { describe, expect, it } from 'vitest';
import { formatMoney, MalformedNotificationEvent, messageFor, notificationSubjects, severityOf } from '../src/notifications/messages.js';
import { notificationPayloads, OWNER, PROJECT } from './support/notification-events.js';

describe('notification messages', () => {
  it('turns every consumed subject into one message for the user the payload names', () => {
    const kinds = notificationSubjects.map((subject) => {
      const message = messageFor(subject, notificationPayloads[subject]);
      expect(message.recipients).toEqual({ userIds: [OWNER] });
      expect(message.title.length).toBeGreaterThan(0);
      return [subject, message.kind, severityOf(message.kind)];
    });
    expect(kinds).toEqual([
      ['provisioning.active', 'allocation_active', 'info'],
      ['provisioning.failed', 'allocation_failed', 'warning'],
      ['provisioning.releasing.completed', 'allocation_released', 'info'],
      ['provisioning.release_failed', 'allocation_release_failed', 'warning'],
      ['provisioning.lost', 'allocation_lost', 'critical'],
      ['billing.low_balance_warning', 'low_balance_warning', 'warning'],
      ['billing.auto_release_pending', 'auto_release_pending', 'critical'],
      ['billing.balance_depleted', 'balance_depleted', 'critical'],
      ['payments.balance_credited', 'balance_credited', 'info'],
    ]);
  });

  it('says what happened in words a user understands', () => {
    expect(messageFor('provisioning.lost', notificationPayloads['provisioning.lost']).title).toBe('Node offline: your allocation was lost');
    expect(messageFor('payments.balance_credited', notificationPayloads['payments.balance_credited']).body).toContain('$25.00 was added to your balance');
    expect(messageFor('billing.low_balance_warning', notificationPayloads['billing.low_balance_warning']).body).toBe(
      'Your balance is $2.00; at $2.50 per hour it lasts about 48 min. Top up to keep your GPUs running.',
    );
    expect(messageFor('provisioning.releasing.completed', { ...notificationPayloads['provisioning.releasing.completed'], reason_code: 'balance_depleted' }).body).toContain(
      'because the balance ran out',
    );
  });

  it("addresses a project wallet's events to the project's billing members", () => {
    const payload = { ...notificationPayloads['billing.balance_depleted'], owner: { kind: 'project', id: PROJECT } };
    const message = messageFor('billing.balance_depleted', payload);
    expect(message.recipients).toEqual({ billingMembersOf: PROJECT });
    expect(message.title).toBe("Your project's balance is used up");
  });

  it('refuses payloads that name no recipient', () => {
    expect(() => messageFor('provisioning.active', { ...notificationPayloads['provisioning.active'], user_id: 'nobody' })).toThrow(MalformedNotificationEvent);
    expect(() => messageFor('billing.low_balance_warning', { ...notificationPayloads['billing.low_balance_warning'], owner: { kind: 'team', id: OWNER } })).toThrow(
      MalformedNotificationEvent,
    );
    expect(() => messageFor('payments.balance_credited', null)).toThrow(MalformedNotificationEvent);
  });

  it('formats money in the currency’s own minor units', () => {
    expect(formatMoney({ amount_minor: 2500, currency: 'USD' })).toBe('$25.00');
    expect(formatMoney({ amount_minor: 500, currency: 'JPY' })).toBe('¥500');
    expect(formatMoney({ amount_minor: 1999, currency: 'EUR' })).toBe('€19.99');
  });
});
