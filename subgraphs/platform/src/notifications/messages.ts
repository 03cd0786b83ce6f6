/** What a notification is about; stored in platform.notifications.kind, which decides its severity. */
export const notificationKinds = {
  allocation_active: 'info',
  allocation_failed: 'warning',
  allocation_released: 'info',
  allocation_release_failed: 'warning',
  allocation_lost: 'critical',
  low_balance_warning: 'warning',
  auto_release_pending: 'critical',
  balance_depleted: 'critical',
  balance_credited: 'info',
} as const satisfies Record<string, NotificationSeverity>;

export type NotificationSeverity = 'info' | 'warning' | 'critical';
export type NotificationKind = keyof typeof notificationKinds;

export function severityOf(kind: string): NotificationSeverity {
  return (notificationKinds as Record<string, NotificationSeverity>)[kind] ?? 'info';
}

/** Who hears about an event: named users, or a project wallet's billing members (resolved through access). */
export type Recipients = { readonly userIds: readonly string[] } | { readonly billingMembersOf: string };

export interface NotificationMessage {
  readonly kind: NotificationKind;
  readonly title: string;
  readonly body: string;
  readonly recipients: Recipients;
}

/** The subjects the notification relay consumes (doc/api/asyncapi/*.yaml, x-service: notification-relay). */
export const notificationSubjects = [
  'provisioning.active',
  'provisioning.failed',
  'provisioning.releasing.completed',
  'provisioning.release_failed',
  'provisioning.lost',
  'billing.low_balance_warning',
  'billing.auto_release_pending',
  'billing.balance_depleted',
  'payments.balance_credited',
] as const;
export type NotificationSubject = (typeof notificationSubjects)[number];

export function isNotificationSubject(value: string): value is NotificationSubject {
  return (notificationSubjects as readonly string[]).includes(value);
}

type Payload = Readonly<Record<string, unknown>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Thrown for a payload that lacks what its message needs; the relay dead-letters the event. */
export class MalformedNotificationEvent extends Error {}

function uuid(payload: Payload, field: string): string {
  const value = payload[field];
  if (typeof value !== 'string' || !UUID.test(value)) throw new MalformedNotificationEvent(`payload.${field} is not a UUID`);
  return value.toLowerCase();
}

function text(payload: Payload, field: string, fallback: string): string {
  const value = payload[field];
  return typeof value === 'string' && value.length > 0 ? value : fallback;
}

function record(payload: Payload, field: string): Payload {
  const value = payload[field];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : {};
}

/** `$12.50`, in the currency's own minor-unit scale; falls back to `12.50 XYZ` for codes Intl does not know. */
export function formatMoney(money: unknown): string {
  const { amount_minor: amountMinor, currency } = (typeof money === 'object' && money !== null ? money : {}) as { amount_minor?: unknown; currency?: unknown };
  const minor = typeof amountMinor === 'number' || typeof amountMinor === 'string' ? BigInt(amountMinor) : 0n;
  const code = typeof currency === 'string' && /^[A-Z]{3}$/.test(currency) ? currency : 'USD';
  try {
    const { format, digits } = currencyFormatOf(code);
    return format.format(Number(minor) / 10 ** digits);
  } catch {
    return `${(Number(minor) / 100).toFixed(2)} ${code}`;
  }
}

/** Building an Intl.NumberFormat costs far more than using one (it loads locale data): one per currency. */
const currencyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>();

function currencyFormatOf(code: string): { format: Intl.NumberFormat; digits: number } {
  let entry = currencyFormats.get(code);
  if (!entry) {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: code });
    entry = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    currencyFormats.set(code, entry);
  }
  return entry;
}

function formatDuration(seconds: unknown): string {
  const total = typeof seconds === 'number' && Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  if (total >= 3600) return `${Math.floor(total / 3600)} h ${Math.floor((total % 3600) / 60)} min`;
  if (total >= 60) return `${Math.floor(total / 60)} min`;
  return `${total} s`;
}

const count = (items: unknown, noun: string) => {
  const n = Array.isArray(items) ? items.length : 0;
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
};

const releaseReasons: Readonly<Record<string, string>> = {
  user_release: 'as requested',
  admin_force_release: 'by an operator',
  balance_depleted: 'because the balance ran out',
};

/** The allocation events carry the owner as `user_id`; the message goes to that user only. */
function allocationMessage(subject: NotificationSubject, payload: Payload): NotificationMessage {
  const allocationId = uuid(payload, 'allocation_id');
  const recipients = { userIds: [uuid(payload, 'user_id')] };
  const region = text(payload, 'region', 'its region');
  const error = record(payload, 'error');
  const errorText = `${text(error, 'message', 'no reason given')} (${text(error, 'code', 'unknown')})`;
  switch (subject) {
    case 'provisioning.active':
      return {
        kind: 'allocation_active',
        title: 'Your GPU is ready',
        body: `Allocation ${allocationId} in ${region} is active; it is billed at ${formatMoney(payload['hourly_price'])} per hour until you release it.`,
        recipients,
      };
    case 'provisioning.failed':
      return {
        kind: 'allocation_failed',
        title: 'Your GPU could not be provisioned',
        body: `Allocation ${allocationId} in ${region} failed: ${errorText}. Nothing was charged.`,
        recipients,
      };
    case 'provisioning.releasing.completed': {
      const reasonCode = text(payload, 'reason_code', '');
      return {
        kind: 'allocation_released',
        title: 'Your GPU was released',
        body: `Allocation ${allocationId} in ${region} was released ${releaseReasons[reasonCode] ?? `(${reasonCode || 'no reason given'})`}; billing stopped at ${text(payload, 'released_at', 'its release')}.`,
        recipients,
      };
    }
    case 'provisioning.release_failed':
      return {
        kind: 'allocation_release_failed',
        title: 'Releasing your GPU failed',
        body: `Allocation ${allocationId} in ${region} could not be released: ${errorText}. Billing stopped at ${text(payload, 'failed_at', 'the failure')}; an operator will clean it up.`,
        recipients,
      };
    default:
      return {
        kind: 'allocation_lost',
        title: 'Node offline: your allocation was lost',
        body: `The node running allocation ${allocationId} in ${region} stopped responding, so the allocation is lost. Billing stopped at its last heartbeat (${text(payload, 'last_heartbeat_at', 'unknown')}).`,
        recipients,
      };
  }
}

/** Billing events name the wallet's owner: a user, or a project whose owners and admins are told. */
function billingMessage(subject: NotificationSubject, payload: Payload): NotificationMessage {
  uuid(payload, 'wallet_id');
  const owner = record(payload, 'owner');
  const ownerId = uuid(owner, 'id');
  let recipients: Recipients;
  if (owner['kind'] === 'user') recipients = { userIds: [ownerId] };
  else if (owner['kind'] === 'project') recipients = { billingMembersOf: ownerId };
  else throw new MalformedNotificationEvent('payload.owner.kind is neither user nor project');
  const whose = owner['kind'] === 'project' ? "Your project's balance" : 'Your balance';
  const balance = formatMoney(payload['balance']);
  const burn = formatMoney(payload['burn_rate_per_hour']);
  switch (subject) {
    case 'billing.low_balance_warning':
      return {
        kind: 'low_balance_warning',
        title: `${whose} is running low`,
        body: `${whose} is ${balance}; at ${burn} per hour it lasts about ${formatDuration(payload['runway_seconds'])}. Top up to keep your GPUs running.`,
        recipients,
      };
    case 'billing.auto_release_pending':
      return {
        kind: 'auto_release_pending',
        title: 'Your GPUs will be released soon',
        body: `${whose} is ${balance} at ${burn} per hour: unless you top up, ${count(payload['live_allocation_ids'], 'running allocation')} will be released at ${text(payload, 'deadline', 'the deadline')}.`,
        recipients,
      };
    default:
      return {
        kind: 'balance_depleted',
        title: `${whose} is used up`,
        body: `${whose} reached ${balance}, so ${count(payload['live_allocation_ids'], 'running allocation')} ${Array.isArray(payload['live_allocation_ids']) && payload['live_allocation_ids'].length === 1 ? 'is' : 'are'} being released. Top up to start new ones.`,
        recipients,
      };
  }
}

/** Turns a consumed event into the notification its recipients get; throws MalformedNotificationEvent when it cannot. */
export function messageFor(subject: NotificationSubject, payload: unknown): NotificationMessage {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new MalformedNotificationEvent('payload is not an object');
  const fields = payload as Payload;
  if (subject.startsWith('provisioning.')) return allocationMessage(subject, fields);
  if (subject.startsWith('billing.')) return billingMessage(subject, fields);
  const amount = formatMoney(fields['amount']);
  const projectNote = typeof fields['project_id'] === 'string' ? " to your project's balance" : ' to your balance';
  return {
    kind: 'balance_credited',
    title: 'Payment received',
    body: `Thank you: ${amount} was added${projectNote} (payment ${uuid(fields, 'payment_id')}, paid ${text(fields, 'paid_at', 'just now')}).`,
    recipients: { userIds: [uuid(fields, 'user_id')] },
  };
}
