import type { WorkerRole } from '../config.js';
import { startDlqHandler } from './dlq-handler.js';
import { startOutboxRelay } from './outbox-relay.js';
import type { StartRole } from './role.js';

/** Each role's starter; the domain workers (provisioning, billing, webhooks, notifications) join here. */
export const roleStarters: { readonly [R in WorkerRole]: StartRole } = {
  'outbox-relay': startOutboxRelay,
  'dlq-handler': startDlqHandler,
};

export type { RoleContext, RunningRole, StartRole } from './role.js';
