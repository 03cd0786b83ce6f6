import { Migration } from '@gpuaas/db';

/**
 * Double-entry ledger with a per-wallet running balance, the uuid v7 helper for the set-based metering tick, and
 * the admission read interface compute calls. doc/architecture/db_schema.sql's billing section ends with the same SQL.
 */
export class Migration0002BillingLedgerDoubleEntry extends Migration {
  override up(): void {
    this.addSql(`-- Ledger, issue 5: double entry and a per-wallet running balance.
-- Every posting is one ledger transaction of two legs that sum to zero: the customer's leg on account 'wallet' and
-- its counter-leg on the platform account its kind names, both tied to the same wallet so revenue per customer
-- stays traceable. Wallet legs are numbered per wallet (wallet_seq) and carry the balance right after them
-- (balance_after = previous balance_after + amount_minor, set by a trigger from the entries themselves), so the
-- balance is read from the newest entry instead of summing history, and can never drift from the entries.
ALTER TABLE billing.ledger_entries
  ADD COLUMN account text NOT NULL DEFAULT 'wallet' CONSTRAINT ledger_entries_account_check
    CHECK (account IN ('wallet', 'usage_revenue', 'payments_clearing', 'refunds_paid', 'credit_grants', 'adjustments')),
  ADD COLUMN transaction_id uuid NOT NULL,
  ADD COLUMN wallet_seq bigint,
  ADD COLUMN balance_after bigint,
  ADD CONSTRAINT ledger_entries_chain_check CHECK (
    (account = 'wallet' AND wallet_id IS NOT NULL AND wallet_seq IS NOT NULL AND balance_after IS NOT NULL)
    OR (account <> 'wallet' AND wallet_seq IS NULL AND balance_after IS NULL));
-- A platform leg may stand for many wallets (the metering tick books one usage_revenue leg per tick and currency
-- against all its wallet debits), so only wallet legs must name a wallet.
ALTER TABLE billing.ledger_entries ALTER COLUMN wallet_id DROP NOT NULL;
-- Each leg of a posting shares the posting's idempotency key.
ALTER TABLE billing.ledger_entries DROP CONSTRAINT ledger_entries_idempotency_key;
ALTER TABLE billing.ledger_entries ADD CONSTRAINT ledger_entries_idempotency_key UNIQUE (idempotency_key, account);
-- The sign rules hold for the wallet leg; the counter-leg carries the opposite sign on its kind's platform account.
-- A system adjustment (no operator) must name the allocation it corrects (usage after a lost node's last heartbeat).
ALTER TABLE billing.ledger_entries DROP CONSTRAINT ledger_entries_sign_check;
ALTER TABLE billing.ledger_entries ADD CONSTRAINT ledger_entries_sign_check CHECK (
  (kind = 'topup_credit' AND payment_id IS NOT NULL AND account IN ('wallet', 'payments_clearing')
    AND sign(amount_minor) = CASE WHEN account = 'wallet' THEN 1 ELSE -1 END)
  OR (kind = 'usage_debit' AND account = 'wallet' AND amount_minor < 0 AND allocation_id IS NOT NULL AND meter_period_id IS NOT NULL)
  OR (kind = 'usage_debit' AND account = 'usage_revenue' AND amount_minor > 0)
  OR (kind = 'refund' AND refund_id IS NOT NULL AND account IN ('wallet', 'refunds_paid')
    AND sign(amount_minor) = CASE WHEN account = 'wallet' THEN -1 ELSE 1 END)
  OR (kind = 'admin_credit' AND actor_id IS NOT NULL AND account IN ('wallet', 'credit_grants')
    AND sign(amount_minor) = CASE WHEN account = 'wallet' THEN 1 ELSE -1 END)
  OR (kind = 'adjustment' AND amount_minor <> 0 AND (actor_id IS NOT NULL OR allocation_id IS NOT NULL)
    AND account IN ('wallet', 'adjustments')));
-- The chain of wallet legs: the newest is the balance, and the cursor of the wallet's history.
CREATE UNIQUE INDEX ledger_entries_wallet_seq_key ON billing.ledger_entries (wallet_id, wallet_seq) INCLUDE (balance_after)
  WHERE account = 'wallet';
-- The chain index above now serves balances and history; the older (wallet_id, created_at) index only cost writes.
DROP INDEX billing.ledger_entries_wallet_created_idx;

-- What the billing-worker needs to know about a metered allocation without asking compute: the ids its events
-- carry, for the usage report (by profile) and for the force releases it requests when a wallet is depleted.
ALTER TABLE billing.meters
  ADD COLUMN user_id uuid,
  ADD COLUMN project_id uuid,
  ADD COLUMN profile_id uuid,
  ADD COLUMN region text,
  ADD COLUMN node_id uuid,
  ADD COLUMN slot_id uuid;
COMMENT ON COLUMN billing.meters.user_id IS 'access ref (users.id): the allocation''s creator.';
COMMENT ON COLUMN billing.meters.project_id IS 'access ref (projects.id).';
COMMENT ON COLUMN billing.meters.profile_id IS 'compute ref (slice_profiles.id).';
COMMENT ON COLUMN billing.meters.node_id IS 'compute ref (nodes.id).';
COMMENT ON COLUMN billing.meters.slot_id IS 'compute ref (slots.id).';

-- Numbers a wallet leg and computes its balance from the previous leg. Rows earlier in the same statement are
-- visible here, so one INSERT may post several legs to one wallet. Two transactions posting to one wallet must
-- serialise on the wallet row (SELECT ... FOR UPDATE); without that the unique chain index refuses the second.
CREATE FUNCTION billing.ledger_entries_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  previous record;
BEGIN
  IF NEW.account <> 'wallet' THEN
    NEW.wallet_seq := NULL;
    NEW.balance_after := NULL;
    RETURN NEW;
  END IF;
  SELECT e.wallet_seq, e.balance_after INTO previous FROM billing.ledger_entries e
    WHERE e.wallet_id = NEW.wallet_id AND e.account = 'wallet' ORDER BY e.wallet_seq DESC LIMIT 1;
  NEW.wallet_seq := COALESCE(previous.wallet_seq, 0) + 1;
  NEW.balance_after := COALESCE(previous.balance_after, 0) + NEW.amount_minor;
  RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_entries_chain BEFORE INSERT ON billing.ledger_entries
  FOR EACH ROW EXECUTE FUNCTION billing.ledger_entries_chain();

-- Double entry, enforced: every ledger transaction an INSERT writes has at least two legs, and its legs in each
-- currency sum to zero, so a posting's legs are always written by one statement.
CREATE FUNCTION billing.ledger_transactions_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  unbalanced uuid;
BEGIN
  SELECT n.transaction_id INTO unbalanced FROM new_entries n
    GROUP BY n.transaction_id, n.currency HAVING sum(n.amount_minor) <> 0 OR count(*) < 2 LIMIT 1;
  IF unbalanced IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % does not balance to zero', unbalanced USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON billing.ledger_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION billing.ledger_transactions_balanced();

-- Tells listeners (the subgraph's balanceUpdated subscription) which wallets' balances changed; NOTIFY is
-- delivered at commit only, whoever posted (metering, top-ups, refunds, operators).
CREATE FUNCTION billing.ledger_entries_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('billing_balance_changed', w.wallet_id::text)
    FROM (SELECT DISTINCT n.wallet_id FROM new_entries n WHERE n.account = 'wallet') w;
  RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_notify AFTER INSERT ON billing.ledger_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION billing.ledger_entries_notify();

-- A uuid v7 for rows the metering tick creates set-based inside one statement (the application makes every
-- other id): 48-bit milliseconds, then random bits, version 7, variant 10.
CREATE FUNCTION billing.uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
    52, 1), 53, 1), 'hex')::uuid
$$;

-- Read interface for compute's createAllocation (402 insufficient_balance): may p_user_id start something that
-- burns p_hourly_amount_minor more per hour? The runway of the user's personal wallet, counting what it already
-- burns plus the new price, must reach the policy minimum, which the caller passes as the transaction setting
-- gpuaas.min_runway_for_new_allocation_seconds (SET LOCAL; 900 when unset). runway_seconds is null when nothing
-- would burn; a free allocation is always allowed.
CREATE FUNCTION billing.admission_of(p_user_id uuid, p_hourly_amount_minor bigint, p_currency text)
  RETURNS TABLE (allowed boolean, runway_seconds bigint, balance_minor bigint)
  LANGUAGE sql STABLE
  AS $fn$
    WITH wallet AS (
      SELECT w.id FROM billing.wallets w WHERE w.owner_kind = 'user' AND w.owner_id = p_user_id AND w.currency = p_currency
    ), figures AS (
      SELECT
        COALESCE((SELECT e.balance_after FROM billing.ledger_entries e JOIN wallet ON e.wallet_id = wallet.id
                  WHERE e.account = 'wallet' ORDER BY e.wallet_seq DESC LIMIT 1), 0) AS balance,
        COALESCE((SELECT sum(m.hourly_amount_minor) FROM billing.meters m JOIN wallet ON m.wallet_id = wallet.id
                  WHERE m.stopped_at IS NULL), 0) + GREATEST(p_hourly_amount_minor, 0) AS burn
    )
    SELECT
      f.burn = 0 OR (f.balance > 0 AND f.balance * 3600 / f.burn
        >= COALESCE(NULLIF(current_setting('gpuaas.min_runway_for_new_allocation_seconds', true), '')::bigint, 900)),
      CASE WHEN f.burn = 0 THEN NULL ELSE GREATEST(f.balance, 0) * 3600 / f.burn END,
      f.balance
    FROM figures f
  $fn$;
`);
  }
}
