import type pg from 'pg';
import type { Wallet } from '../ledger/wallets.js';
import type { LowBalanceState } from './low-balance.js';

export interface BalanceView {
  readonly wallet: Wallet;
  readonly balanceMinor: bigint;
  readonly burnPerHourMinor: bigint;
  /** Null when nothing burns. */
  readonly runwaySeconds: bigint | null;
  readonly lowBalance: LowBalanceState;
  readonly autoReleaseDeadline: Date | null;
  readonly asOf: Date;
}

/**
 * The wallet's balance (its newest entry's running balance), what its running meters burn per hour, the runway
 * at that rate, and where the low-balance policy last put it. Usage since the last tick is not booked yet.
 */
export async function balanceOf(db: pg.Pool | pg.ClientBase, wallet: Wallet): Promise<BalanceView> {
  const { rows } = await db.query<{ balance: string; burn: string; state: LowBalanceState | null; deadline: Date | null; as_of: Date }>(
    `SELECT COALESCE((SELECT e.balance_after FROM billing.ledger_entries e
                      WHERE e.wallet_id = $1 AND e.account = 'wallet' ORDER BY e.wallet_seq DESC LIMIT 1), 0) AS balance,
            COALESCE((SELECT sum(m.hourly_amount_minor) FROM billing.meters m WHERE m.wallet_id = $1 AND m.stopped_at IS NULL), 0) AS burn,
            s.state, s.deadline, now() AS as_of
     FROM (SELECT 1) one LEFT JOIN billing.low_balance_states s ON s.wallet_id = $1`,
    [wallet.id],
  );
  const row = rows[0]!;
  const balance = BigInt(row.balance);
  const burn = BigInt(row.burn);
  const state = row.state ?? 'none';
  return {
    wallet,
    balanceMinor: balance,
    burnPerHourMinor: burn,
    runwaySeconds: burn > 0n ? ((balance > 0n ? balance : 0n) * 3600n) / burn : null,
    lowBalance: state,
    autoReleaseDeadline: state === 'auto_release_pending' ? row.deadline : null,
    asOf: row.as_of,
  };
}
