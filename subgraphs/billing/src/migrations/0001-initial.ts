import { Migration } from '@gpuaas/db';

/**
 * The initial billing schema. The SQL is the `-- schema: billing` section of doc/architecture/db_schema.sql,
 * verbatim; the schema_drift gate fails when the two disagree. Later changes are new migrations, never edits here.
 */
export class Migration0001BillingInitial extends Migration {
  override up(): void {
    this.addSql(`CREATE SCHEMA IF NOT EXISTS billing;

CREATE TABLE billing.wallets (
  id uuid PRIMARY KEY,
  owner_kind text NOT NULL CONSTRAINT wallets_owner_kind_check CHECK (owner_kind IN ('user', 'project')),
  owner_id uuid NOT NULL,
  currency char(3) NOT NULL CONSTRAINT wallets_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT wallets_owner_currency_key UNIQUE (owner_kind, owner_id, currency),
  -- Target of the (wallet_id, currency) foreign keys below: money can only move in its wallet's currency.
  CONSTRAINT wallets_id_currency_key UNIQUE (id, currency)
);
COMMENT ON COLUMN billing.wallets.owner_id IS 'access ref: users.id or projects.id, per owner_kind.';

CREATE TABLE billing.stripe_customers (
  user_id uuid PRIMARY KEY,
  stripe_customer_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT stripe_customers_stripe_customer_id_key UNIQUE (stripe_customer_id)
);
COMMENT ON COLUMN billing.stripe_customers.user_id IS 'access ref (users.id).';

CREATE TABLE billing.checkout_sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  wallet_id uuid NOT NULL,
  stripe_session_id text NOT NULL,
  amount_minor bigint NOT NULL CONSTRAINT checkout_sessions_amount_check CHECK (amount_minor > 0),
  currency char(3) NOT NULL,
  status text NOT NULL DEFAULT 'open' CONSTRAINT checkout_sessions_status_check
    CHECK (status IN ('open', 'complete', 'expired')),
  url text NOT NULL,
  expires_at timestamptz NOT NULL,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT checkout_sessions_stripe_session_id_key UNIQUE (stripe_session_id),
  CONSTRAINT checkout_sessions_wallet_fkey FOREIGN KEY (wallet_id, currency) REFERENCES billing.wallets (id, currency),
  CONSTRAINT checkout_sessions_completed_check CHECK ((status = 'complete') = (completed_at IS NOT NULL))
);
COMMENT ON COLUMN billing.checkout_sessions.user_id IS 'access ref (users.id).';
CREATE INDEX checkout_sessions_user_created_idx ON billing.checkout_sessions (user_id, created_at DESC, id DESC);
CREATE INDEX checkout_sessions_wallet_idx ON billing.checkout_sessions (wallet_id);
CREATE INDEX checkout_sessions_open_expiry_idx ON billing.checkout_sessions (expires_at) WHERE status = 'open';

-- Raw Stripe webhook deliveries. The unique event id is the webhook's idempotency: a redelivery conflicts and is
-- answered 200 without being processed again.
CREATE TABLE billing.stripe_events (
  id uuid PRIMARY KEY,
  stripe_event_id text NOT NULL,
  type text NOT NULL,
  livemode boolean NOT NULL DEFAULT false,
  payload jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  processing_error text,
  CONSTRAINT stripe_events_stripe_event_id_key UNIQUE (stripe_event_id)
);
CREATE INDEX stripe_events_unprocessed_idx ON billing.stripe_events (received_at) WHERE processed_at IS NULL;
CREATE INDEX stripe_events_type_idx ON billing.stripe_events (type, received_at DESC);

CREATE TABLE billing.payments (
  id uuid PRIMARY KEY,
  stripe_payment_intent_id text NOT NULL,
  checkout_session_id uuid REFERENCES billing.checkout_sessions (id),
  user_id uuid NOT NULL,
  wallet_id uuid NOT NULL,
  amount_minor bigint NOT NULL CONSTRAINT payments_amount_check CHECK (amount_minor > 0),
  refunded_amount_minor bigint NOT NULL DEFAULT 0,
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_stripe_payment_intent_id_key UNIQUE (stripe_payment_intent_id),
  CONSTRAINT payments_checkout_session_key UNIQUE (checkout_session_id),
  CONSTRAINT payments_wallet_fkey FOREIGN KEY (wallet_id, currency) REFERENCES billing.wallets (id, currency),
  -- Refunds can never exceed what was paid, however many are approved concurrently.
  CONSTRAINT payments_refunded_check CHECK (refunded_amount_minor BETWEEN 0 AND amount_minor)
);
COMMENT ON COLUMN billing.payments.user_id IS 'access ref (users.id).';
CREATE INDEX payments_user_created_idx ON billing.payments (user_id, created_at DESC, id DESC);
CREATE INDEX payments_wallet_idx ON billing.payments (wallet_id);

CREATE TABLE billing.refunds (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  wallet_id uuid NOT NULL,
  payment_id uuid NOT NULL REFERENCES billing.payments (id),
  amount_minor bigint NOT NULL CONSTRAINT refunds_amount_check CHECK (amount_minor > 0),
  currency char(3) NOT NULL,
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'requested' CONSTRAINT refunds_status_check
    CHECK (status IN ('requested', 'approved', 'rejected', 'succeeded', 'failed')),
  decided_by uuid,
  decided_at timestamptz,
  decision_note text,
  stripe_refund_id text,
  failure_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT refunds_stripe_refund_id_key UNIQUE (stripe_refund_id),
  CONSTRAINT refunds_wallet_fkey FOREIGN KEY (wallet_id, currency) REFERENCES billing.wallets (id, currency),
  CONSTRAINT refunds_decision_check CHECK ((status = 'requested') = (decided_at IS NULL))
);
COMMENT ON COLUMN billing.refunds.user_id IS 'access ref (users.id) of the requester.';
COMMENT ON COLUMN billing.refunds.decided_by IS 'access ref (users.id) of the admin who approved or rejected; NULL on a decided refund means the refund policy decided automatically.';
CREATE INDEX refunds_status_created_idx ON billing.refunds (status, created_at, id);
CREATE INDEX refunds_user_created_idx ON billing.refunds (user_id, created_at DESC, id DESC);
CREATE INDEX refunds_payment_idx ON billing.refunds (payment_id);
CREATE INDEX refunds_wallet_idx ON billing.refunds (wallet_id);

-- One meter per allocation, started at 'active'. Settlement books [last_settled_until, settle_to) as a
-- meter_period plus its usage_debit ledger entry in one transaction, then advances last_settled_until.
CREATE TABLE billing.meters (
  id uuid PRIMARY KEY,
  allocation_id uuid NOT NULL,
  wallet_id uuid NOT NULL,
  hourly_amount_minor bigint NOT NULL CONSTRAINT meters_amount_check CHECK (hourly_amount_minor >= 0),
  currency char(3) NOT NULL,
  started_at timestamptz NOT NULL,
  stopped_at timestamptz,
  last_settled_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT meters_allocation_key UNIQUE (allocation_id),
  CONSTRAINT meters_wallet_fkey FOREIGN KEY (wallet_id, currency) REFERENCES billing.wallets (id, currency),
  CONSTRAINT meters_settled_check CHECK (last_settled_until >= started_at),
  CONSTRAINT meters_stopped_check CHECK (stopped_at IS NULL OR (stopped_at >= started_at AND last_settled_until <= stopped_at))
);
COMMENT ON COLUMN billing.meters.allocation_id IS 'compute ref (allocations.id).';
-- The metering tick finds meters that still owe settlement: running ones, and stopped ones not yet settled to the stop.
CREATE INDEX meters_unsettled_idx ON billing.meters (last_settled_until)
  WHERE stopped_at IS NULL OR last_settled_until < stopped_at;
CREATE INDEX meters_wallet_running_idx ON billing.meters (wallet_id) WHERE stopped_at IS NULL;

CREATE TABLE billing.meter_periods (
  id uuid PRIMARY KEY,
  meter_id uuid NOT NULL REFERENCES billing.meters (id),
  allocation_id uuid NOT NULL,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  seconds integer NOT NULL CONSTRAINT meter_periods_seconds_check CHECK (seconds > 0),
  amount_minor bigint NOT NULL CONSTRAINT meter_periods_amount_check CHECK (amount_minor >= 0),
  currency char(3) NOT NULL CONSTRAINT meter_periods_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A period is settled once, even if two ticks race or a worker retries.
  CONSTRAINT meter_periods_allocation_start_key UNIQUE (allocation_id, period_start),
  CONSTRAINT meter_periods_range_check CHECK (period_end > period_start)
);
COMMENT ON COLUMN billing.meter_periods.allocation_id IS 'compute ref (allocations.id).';
CREATE INDEX meter_periods_meter_idx ON billing.meter_periods (meter_id, period_start);

-- The ledger. Balance = SUM(amount_minor) per wallet; there is no stored balance to drift. Rows are immutable
-- (trigger below): a mistake is corrected by a new 'adjustment' entry, never by editing history. The balance may
-- go below zero by at most one metering tick; the low-balance policy, not a constraint, stops usage.
CREATE TABLE billing.ledger_entries (
  id uuid PRIMARY KEY,
  wallet_id uuid NOT NULL,
  kind text NOT NULL CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('topup_credit', 'usage_debit', 'refund', 'admin_credit', 'adjustment')),
  amount_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  allocation_id uuid,
  meter_period_id uuid REFERENCES billing.meter_periods (id),
  payment_id uuid REFERENCES billing.payments (id),
  refund_id uuid REFERENCES billing.refunds (id),
  actor_id uuid,
  description text NOT NULL DEFAULT '',
  idempotency_key text NOT NULL,
  correlation_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A metering tick, a webhook credit or an admin action can never be booked twice.
  CONSTRAINT ledger_entries_idempotency_key UNIQUE (idempotency_key),
  CONSTRAINT ledger_entries_wallet_fkey FOREIGN KEY (wallet_id, currency) REFERENCES billing.wallets (id, currency),
  -- Credits are positive, debits negative; each kind carries the reference that justifies it.
  CONSTRAINT ledger_entries_sign_check CHECK (
    (kind = 'topup_credit' AND amount_minor > 0 AND payment_id IS NOT NULL)
    OR (kind = 'usage_debit' AND amount_minor < 0 AND allocation_id IS NOT NULL AND meter_period_id IS NOT NULL)
    OR (kind = 'refund' AND amount_minor < 0 AND refund_id IS NOT NULL)
    OR (kind = 'admin_credit' AND amount_minor > 0 AND actor_id IS NOT NULL)
    OR (kind = 'adjustment' AND amount_minor <> 0 AND actor_id IS NOT NULL))
);
COMMENT ON COLUMN billing.ledger_entries.allocation_id IS 'compute ref (allocations.id) for usage debits.';
COMMENT ON COLUMN billing.ledger_entries.actor_id IS 'access ref (users.id) of the admin behind an admin_credit or adjustment.';
-- Balance and history in one index: SUM(amount_minor) per wallet is an index-only scan.
CREATE INDEX ledger_entries_wallet_created_idx ON billing.ledger_entries (wallet_id, created_at DESC, id DESC) INCLUDE (amount_minor);
CREATE INDEX ledger_entries_allocation_idx ON billing.ledger_entries (allocation_id) WHERE allocation_id IS NOT NULL;
CREATE INDEX ledger_entries_meter_period_idx ON billing.ledger_entries (meter_period_id) WHERE meter_period_id IS NOT NULL;
CREATE INDEX ledger_entries_payment_idx ON billing.ledger_entries (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX ledger_entries_refund_idx ON billing.ledger_entries (refund_id) WHERE refund_id IS NOT NULL;

CREATE FUNCTION billing.ledger_entries_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'billing.ledger_entries is immutable: % refused (book an adjustment instead)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ledger_entries_no_update_delete BEFORE UPDATE OR DELETE ON billing.ledger_entries
  FOR EACH ROW EXECUTE FUNCTION billing.ledger_entries_immutable();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON billing.ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION billing.ledger_entries_immutable();

-- Where each wallet stands in the low-balance policy: none -> warning -> auto_release_pending (deadline set) ->
-- depleted. A top-up moves it back to none.
CREATE TABLE billing.low_balance_states (
  wallet_id uuid PRIMARY KEY REFERENCES billing.wallets (id),
  state text NOT NULL DEFAULT 'none' CONSTRAINT low_balance_states_state_check
    CHECK (state IN ('none', 'warning', 'auto_release_pending', 'depleted')),
  crossed_at timestamptz,
  deadline timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT low_balance_states_crossed_check CHECK (state = 'none' OR crossed_at IS NOT NULL),
  CONSTRAINT low_balance_states_deadline_check CHECK (state <> 'auto_release_pending' OR deadline IS NOT NULL)
);
CREATE INDEX low_balance_states_deadline_idx ON billing.low_balance_states (deadline) WHERE state = 'auto_release_pending';
`);
  }
}
