/**
 * Policy keys: the operator-tunable rules of the platform. doc/policies.md is generated from this table.
 * Each deployable reads overrides from `POLICY_<KEY_IN_UPPER_SNAKE>` through its own config.
 */
export interface PolicyDefinition {
  readonly default: number;
  readonly unit: 'seconds' | 'count' | 'minor_units' | 'days' | 'hours' | 'requests';
  readonly owner: 'access' | 'compute' | 'billing' | 'workloads' | 'platform';
  readonly meaning: string;
}

export const policyCatalog = {
  low_balance_warning_runway_seconds: { default: 3600, unit: 'seconds', owner: 'billing', meaning: 'Runway below which `billing.low_balance_warning` is sent (once per crossing).' },
  auto_release_grace_seconds: { default: 600, unit: 'seconds', owner: 'billing', meaning: 'Runway below which `billing.auto_release_pending` is sent with the release deadline.' },
  min_runway_for_new_allocation_seconds: { default: 900, unit: 'seconds', owner: 'billing', meaning: 'A new allocation is refused (`402 insufficient_balance`) when the runway including its price would be below this; 0 turns the check off.' },
  metering_tick_seconds: { default: 60, unit: 'seconds', owner: 'billing', meaning: 'Length of one metering period; usage is accrued per tick and settled exactly at stop.' },
  checkout_min_amount_minor: { default: 500, unit: 'minor_units', owner: 'billing', meaning: 'Smallest top-up a checkout session may be created for.' },
  checkout_max_amount_minor: { default: 1_000_000, unit: 'minor_units', owner: 'billing', meaning: 'Largest top-up a checkout session may be created for.' },
  refund_window_days: { default: 30, unit: 'days', owner: 'billing', meaning: 'Only unused top-ups younger than this are refundable.' },
  max_live_allocations_per_user: { default: 8, unit: 'count', owner: 'compute', meaning: 'Allocations in requested/provisioning/active/releasing a user may hold at once (`403 quota_exceeded`).' },
  node_heartbeat_timeout_seconds: { default: 90, unit: 'seconds', owner: 'compute', meaning: 'A node silent for longer goes `offline`; its live allocations are marked lost.' },
  task_lease_seconds: { default: 120, unit: 'seconds', owner: 'compute', meaning: 'How long an agent holds a node task before it is re-offered under a new fencing token.' },
  task_wait_max_seconds: { default: 30, unit: 'seconds', owner: 'compute', meaning: 'Longest hold of a `tasks/wait` long-poll (jittered by up to 20%).' },
  terminal_token_ttl_seconds: { default: 60, unit: 'seconds', owner: 'compute', meaning: 'Lifetime of a one-use browser terminal token.' },
  telemetry_retention_days: { default: 7, unit: 'days', owner: 'compute', meaning: 'Guest telemetry older than this is deleted.' },
  idempotency_retention_hours: { default: 24, unit: 'hours', owner: 'platform', meaning: 'How long an `X-Idempotency-Key` and its first response are kept.' },
  access_token_ttl_seconds: { default: 900, unit: 'seconds', owner: 'access', meaning: 'Lifetime of an access JWT.' },
  refresh_token_ttl_days: { default: 30, unit: 'days', owner: 'access', meaning: 'Lifetime of a refresh token family since its last rotation.' },
  password_reset_token_ttl_seconds: { default: 3600, unit: 'seconds', owner: 'access', meaning: 'Lifetime of a one-time password reset token.' },
  login_attempts_per_account_per_15m: { default: 10, unit: 'requests', owner: 'access', meaning: 'Failed logins per account in 15 minutes before `429 rate_limited`.' },
  login_attempts_per_ip_per_15m: { default: 50, unit: 'requests', owner: 'access', meaning: 'Login attempts per client IP in 15 minutes before `429 rate_limited`.' },
  audit_log_retention_days: { default: 365, unit: 'days', owner: 'platform', meaning: 'Audit log rows older than this may be archived; they are never edited.' },
} as const satisfies Record<string, PolicyDefinition>;

export type PolicyKey = keyof typeof policyCatalog;
export type Policies = { readonly [K in PolicyKey]: number };

/** Resolves every policy from `POLICY_*` overrides, falling back to the catalog default. */
export function resolvePolicies(env: Readonly<Record<string, string | undefined>>): Policies {
  const resolved: Record<string, number> = {};
  const problems: string[] = [];
  for (const [key, definition] of Object.entries(policyCatalog)) {
    const raw = env[`POLICY_${key.toUpperCase()}`];
    if (raw === undefined || raw === '') {
      resolved[key] = definition.default;
      continue;
    }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) problems.push(`POLICY_${key.toUpperCase()}: expected a non-negative integer, got "${raw}"`);
    else resolved[key] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved as Policies;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
