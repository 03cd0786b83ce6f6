import { createLogger } from '@gpuaas/telemetry';
import { describe, expect, it } from 'vitest';
import { adminLedgerHandlers } from '../src/operations/admin-billing/ledger.js';
import { ledgerHandlers } from '../src/operations/billing/ledger.js';
import type { OperationContext } from '../src/operations/registry.js';
import { assertResponseMatchesContract } from '../src/testing/contract-validator.js';

const WALLET = '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e10';
const USER = '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e01';

/** A request context whose gateway answers `data` and remembers the variables it was sent. */
function contextOf(operationId: string, data: Record<string, unknown>, request: { query?: Record<string, unknown>; body?: unknown } = {}) {
  const sent: Record<string, unknown>[] = [];
  const ctx = {
    operationId,
    method: 'GET',
    path: '/api/v1/billing',
    params: {},
    query: request.query ?? {},
    headers: {},
    body: request.body,
    rawBody: undefined,
    bearerToken: 'token',
    correlationId: 'test',
    logger: createLogger('billing-ledger-operations-test', 'silent'),
    graphql: async (_document: unknown, variables: Record<string, unknown>) => {
      sent.push(variables);
      return data;
    },
  } as unknown as OperationContext;
  return { ctx, sent };
}

const entry = {
  id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e40',
  walletId: WALLET,
  kind: 'USAGE_DEBIT',
  amount: { amountMinor: '-250', currency: 'USD' },
  balanceAfter: { amountMinor: '12500', currency: 'USD' },
  allocationId: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e20',
  paymentId: null,
  refundId: null,
  description: 'Usage',
  createdAt: '2026-11-27T12:00:00.000Z',
};

describe('billing ledger operations', () => {
  it('answers getBillingBalance in the contract shape, money as integers', async () => {
    const { ctx, sent } = contextOf('getBillingBalance', {
      billingBalance: {
        walletId: WALLET,
        owner: { kind: 'USER', id: USER },
        balance: { amountMinor: '12500', currency: 'USD' },
        burnRatePerHour: { amountMinor: '250', currency: 'USD' },
        runwaySeconds: 180000,
        lowBalance: 'NONE',
        autoReleaseDeadline: null,
        asOf: '2026-11-27T12:00:00.000Z',
      },
    }, { query: { project_id: USER } });
    const result = await ledgerHandlers.getBillingBalance(ctx);
    expect(sent[0]).toEqual({ projectId: USER });
    expect(result.body).toMatchObject({ balance: { amount_minor: 12500, currency: 'USD' }, owner: { kind: 'user' }, low_balance: 'none', runway_seconds: 180000 });
    assertResponseMatchesContract('getBillingBalance', result.status, result.body);
  });

  it('answers getBillingUsage and the ledger listings in the contract shape', async () => {
    const usage = await ledgerHandlers.getBillingUsage(
      contextOf('getBillingUsage', {
        billingUsage: {
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          groupBy: 'DAY',
          rows: [{ key: '2026-11-20', allocationId: null, day: '2026-11-20', profileId: null, quantitySeconds: 120, amount: { amountMinor: '1320', currency: 'USD' } }],
          totals: { quantitySeconds: 120, amount: { amountMinor: '1320', currency: 'USD' } },
        },
      }, { query: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', group_by: 'day' } }).ctx,
    );
    expect(usage.body).toMatchObject({ group_by: 'day', totals: { amount: { amount_minor: 1320 } } });
    assertResponseMatchesContract('getBillingUsage', usage.status, usage.body);

    const connection = { edges: [{ node: entry, cursor: 'c1' }], pageInfo: { hasNextPage: true, endCursor: 'c1' } };
    const { ctx, sent } = contextOf('listLedgerEntries', { ledgerEntries: connection }, { query: { limit: 1, kind: 'usage_debit' } });
    const listing = await ledgerHandlers.listLedgerEntries(ctx);
    expect(sent[0]).toMatchObject({ first: 1, kind: 'USAGE_DEBIT' });
    expect(listing.body).toMatchObject({ data: [{ kind: 'usage_debit', amount: { amount_minor: -250 }, balance_after: { amount_minor: 12500 } }], next_cursor: 'c1' });
    assertResponseMatchesContract('listLedgerEntries', listing.status, listing.body);

    const admin = await adminLedgerHandlers.adminListLedgerEntries(contextOf('adminListLedgerEntries', { adminLedgerEntries: connection }, { query: { user_id: USER } }).ctx);
    assertResponseMatchesContract('adminListLedgerEntries', admin.status, admin.body);
  });

  it('sends adminGrantCredit the amount as GraphQL money and answers 201 with the entry', async () => {
    const { ctx, sent } = contextOf('adminGrantCredit', { adminGrantCredit: { ...entry, kind: 'ADMIN_CREDIT', amount: { amountMinor: '1000', currency: 'USD' }, allocationId: null } }, {
      body: { user_id: USER, amount: { amount_minor: 1000, currency: 'USD' }, reason: 'Compensation' },
    });
    const result = await adminLedgerHandlers.adminGrantCredit(ctx);
    expect(sent[0]).toEqual({ input: { userId: USER, amount: { amountMinor: '1000', currency: 'USD' }, reason: 'Compensation' } });
    expect(result.status).toBe(201);
    assertResponseMatchesContract('adminGrantCredit', result.status, result.body);
  });
});
