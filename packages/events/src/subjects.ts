/** The JetStream streams of the platform; each captures one top-level subject token. */
export const streamNames = ['PROVISIONING', 'BILLING', 'PAYMENTS', 'DLQ'] as const;
export type StreamName = (typeof streamNames)[number];

/** Every event subject, as published (without a namespace). doc/api/asyncapi.yaml lists the same channels. */
export const subjects = {
  provisioningRequested: 'provisioning.requested',
  provisioningActive: 'provisioning.active',
  provisioningFailed: 'provisioning.failed',
  provisioningReleasingRequested: 'provisioning.releasing.requested',
  provisioningReleasingCompleted: 'provisioning.releasing.completed',
  provisioningReleaseFailed: 'provisioning.release_failed',
  provisioningForceReleaseRequested: 'provisioning.force_release_requested',
  provisioningLost: 'provisioning.lost',
  billingLowBalanceWarning: 'billing.low_balance_warning',
  billingAutoReleasePending: 'billing.auto_release_pending',
  billingBalanceDepleted: 'billing.balance_depleted',
  paymentsBalanceCredited: 'payments.balance_credited',
  paymentsStripeEventReceived: 'payments.stripe_event_received',
} as const;

export type Subject = (typeof subjects)[keyof typeof subjects];

/** The stream each subject is stored in. */
export const subjectStream: { readonly [S in Subject]: StreamName } = {
  'provisioning.requested': 'PROVISIONING',
  'provisioning.active': 'PROVISIONING',
  'provisioning.failed': 'PROVISIONING',
  'provisioning.releasing.requested': 'PROVISIONING',
  'provisioning.releasing.completed': 'PROVISIONING',
  'provisioning.release_failed': 'PROVISIONING',
  'provisioning.force_release_requested': 'PROVISIONING',
  'provisioning.lost': 'PROVISIONING',
  'billing.low_balance_warning': 'BILLING',
  'billing.auto_release_pending': 'BILLING',
  'billing.balance_depleted': 'BILLING',
  'payments.balance_credited': 'PAYMENTS',
  'payments.stripe_event_received': 'PAYMENTS',
};

export const allSubjects: readonly Subject[] = Object.values(subjects);

export function isSubject(value: string): value is Subject {
  return Object.hasOwn(subjectStream, value);
}

/** The prefix of dead-letter subjects: a message that failed on `x.y` is dead-lettered on `dlq.x.y`. */
export const DLQ_PREFIX = 'dlq.';

export function dlqSubjectOf(subject: string): string {
  return `${DLQ_PREFIX}${subject}`;
}

/**
 * Applies a namespace: `ns.provisioning.requested` for namespace `ns`, the contract subject without one.
 * Namespaces isolate parallel test runs (and preview environments) that share one NATS server.
 */
export function subjectFor(namespace: string, subject: string): string {
  return namespace ? `${namespace}.${subject}` : subject;
}

/** Inverse of subjectFor; returns undefined when the subject is outside the namespace. */
export function subjectWithoutNamespace(namespace: string, subject: string): string | undefined {
  if (!namespace) return subject;
  const prefix = `${namespace}.`;
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}

/** `ns_PROVISIONING` for namespace `ns` (stream names may not contain dots), the contract name without one. */
export function streamNameFor(namespace: string, stream: StreamName): string {
  return namespace ? `${namespace}_${stream}` : stream;
}
