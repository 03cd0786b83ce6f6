import type { NotificationSubject } from '../../src/notifications/messages.js';

export const OWNER = '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e01';
export const PROJECT = '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e03';
const ALLOCATION = '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e20';

const allocation = (userId: string) => ({
  allocation_id: ALLOCATION,
  project_id: PROJECT,
  user_id: userId,
  profile_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e30',
  region: 'eu-west-1',
  node_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9eb0',
  slot_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9eb1',
  hourly_price: { amount_minor: 250, currency: 'USD' },
  requested_at: '2026-11-27T12:00:00Z',
});

const wallet = (owner: { kind: 'user' | 'project'; id: string }) => ({
  wallet_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e10',
  owner,
  balance: { amount_minor: 200, currency: 'USD' },
  burn_rate_per_hour: { amount_minor: 250, currency: 'USD' },
});

/** One payload per consumed subject, as the AsyncAPI's examples shape them, addressed to `userId`. */
export function notificationPayloadsFor(userId: string): Record<NotificationSubject, Record<string, unknown>> {
  return {
    'provisioning.active': { ...allocation(userId), active_at: '2026-11-27T12:00:09Z' },
    'provisioning.failed': { ...allocation(userId), failed_at: '2026-11-27T12:00:31Z', error: { code: 'provisioning_failed', message: 'MIG instance create failed' } },
    'provisioning.releasing.completed': { ...allocation(userId), active_at: '2026-11-27T12:00:09Z', released_at: '2026-11-27T14:00:04Z', reason_code: 'user_release' },
    'provisioning.release_failed': {
      ...allocation(userId),
      active_at: '2026-11-27T12:00:09Z',
      failed_at: '2026-11-27T14:02:00Z',
      error: { code: 'task_timeout', message: 'Release task lease expired 3 times' },
    },
    'provisioning.lost': { ...allocation(userId), active_at: '2026-11-27T12:00:09Z', lost_at: '2026-11-27T13:31:30Z', last_heartbeat_at: '2026-11-27T13:30:00Z' },
    'billing.low_balance_warning': { ...wallet({ kind: 'user', id: userId }), runway_seconds: 2880, threshold_seconds: 3600 },
    'billing.auto_release_pending': { ...wallet({ kind: 'user', id: userId }), runway_seconds: 576, deadline: '2026-11-27T12:09:36Z', live_allocation_ids: [ALLOCATION] },
    'billing.balance_depleted': {
      ...wallet({ kind: 'user', id: userId }),
      balance: { amount_minor: 0, currency: 'USD' },
      runway_seconds: 0,
      live_allocation_ids: [ALLOCATION],
      depleted_at: '2026-11-27T12:09:36Z',
    },
    'payments.balance_credited': {
      payment_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e50',
      stripe_event_id: 'evt_1PqXyZ2eZvKYlo2C8h7g6f5e',
      stripe_checkout_session_id: 'cs_test_a1B2c3D4e5F6g7H8i9J0',
      user_id: userId,
      wallet_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e10',
      project_id: null,
      amount: { amount_minor: 2500, currency: 'USD' },
      paid_at: '2026-11-27T12:03:10Z',
    },
  };
}

export const notificationPayloads = notificationPayloadsFor(OWNER);
