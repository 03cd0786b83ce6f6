/** What a ledger entry is for; the customer's (wallet) leg of each kind has a fixed sign except adjustments. */
export const ledgerEntryKinds = ['topup_credit', 'usage_debit', 'refund', 'admin_credit', 'adjustment'] as const;
export type LedgerEntryKind = (typeof ledgerEntryKinds)[number];

/** The platform account that takes the counter-leg of each kind (double entry: the two legs sum to zero). */
export const counterAccountOf: { readonly [K in LedgerEntryKind]: string } = {
  topup_credit: 'payments_clearing',
  usage_debit: 'usage_revenue',
  refund: 'refunds_paid',
  admin_credit: 'credit_grants',
  adjustment: 'adjustments',
};

/** +1 credits, -1 debits, 0 either (an adjustment keeps the sign it was given). */
export const walletSignOf: { readonly [K in LedgerEntryKind]: 1 | -1 | 0 } = {
  topup_credit: 1,
  usage_debit: -1,
  refund: -1,
  admin_credit: 1,
  adjustment: 0,
};

export function isLedgerEntryKind(value: unknown): value is LedgerEntryKind {
  return typeof value === 'string' && (ledgerEntryKinds as readonly string[]).includes(value);
}
