import type { WorkerRole } from '../config.js';
import { startBillingWorker } from './billing-worker.js';
import { startDlqHandler } from './dlq-handler.js';
import { startNodeMonitor } from './node-monitor.js';
import { startNotificationRelay } from './notification-relay.js';
import { startOutboxRelay } from './outbox-relay.js';
import { startProvisioningWorker } from './provisioning-worker.js';
import type { StartRole } from './role.js';
import { startWebhookWorker } from './webhook-worker.js';

/** Each role's starter; the domain workers (provisioning, billing, webhooks, notifications) join here. */
export const roleStarters: { readonly [R in WorkerRole]: StartRole } = {
  'outbox-relay': startOutboxRelay,
  'dlq-handler': startDlqHandler,
  'provisioning-worker': startProvisioningWorker,
  'billing-worker': startBillingWorker,
  'webhook-worker': startWebhookWorker,
  'node-monitor': startNodeMonitor,
  'notification-relay': startNotificationRelay,
};

export type { RoleContext, RunningRole, StartRole } from './role.js';
