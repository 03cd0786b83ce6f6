import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { resolvePolicies } from '@gpuaas/config';
import { createLogger } from '@gpuaas/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBillingConfig } from '../src/config.js';
import type { BillingContext, BillingDeps } from '../src/deps.js';
import { handleMeteringEvent } from '../src/metering/events.js';
import { runMeteringTick } from '../src/metering/tick.js';
import { resolvers } from '../src/resolvers/index.js';
import { loadTypeDefs } from '../src/schema.js';
import { activeEvent, allocationFixture, at, plusSeconds, releasedEvent } from './support/billing-db.js';
import { seedProject, seedUser, startPaymentsWorld, type PaymentsWorld } from './support/payments-world.js';
import type { Actor } from '../src/payments/actor.js';

// @apollo/subgraph builds its schema with the CommonJS graphql; executing it needs the same copy.
const { graphql, parse, subscribe } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

let world: PaymentsWorld;
let schema: GraphQLSchema;
let admin: Actor;
const policies = resolvePolicies({});

beforeAll(async () => {
  world = await startPaymentsWorld();
  schema = buildSubgraphSchema({ typeDefs: loadTypeDefs(), resolvers: resolvers as never });
  admin = await seedUser(world.pool, { admin: true });
});
afterAll(async () => {
  await world?.close();
});

function contextOf(actor: Actor): BillingContext {
  const deps = { pool: world.pool, logger: createLogger('ledger-api-test', 'silent'), config: loadBillingConfig({}) } as unknown as BillingDeps;
  return {
    identity: { userId: actor.userId, role: actor.isAdmin ? 'admin' : 'user', sessionId: randomUUID(), tokenVersion: 1, correlationId: actor.correlationId },
    correlationId: actor.correlationId,
    deps,
  } as BillingContext;
}

async function run(actor: Actor, source: string, variableValues: Record<string, unknown> = {}) {
  const result = await graphql({ schema, source, variableValues, contextValue: contextOf(actor) });
  return { data: result.data as Record<string, any> | null | undefined, code: result.errors?.[0]?.extensions?.['code'] ?? (result.errors?.[0] as any)?.originalError?.code, errors: result.errors };
}

const GRANT = `mutation ($input: AdminGrantCreditInput!) { adminGrantCredit(input: $input) { id walletId kind amount { amountMinor currency } balanceAfter { amountMinor } description } }`;
const BALANCE = `query ($projectId: ID) { billingBalance(projectId: $projectId) { walletId owner { kind id } balance { amountMinor currency } burnRatePerHour { amountMinor } runwaySeconds lowBalance autoReleaseDeadline asOf } }`;
const LEDGER = `query ($first: Int, $after: String, $kind: LedgerEntryKind) { ledgerEntries(first: $first, after: $after, kind: $kind) { edges { cursor node { id kind amount { amountMinor } balanceAfter { amountMinor } allocationId } } pageInfo { hasNextPage endCursor } } }`;
const USAGE = `query ($from: DateTime!, $to: DateTime!, $groupBy: UsageGroupBy) { billingUsage(from: $from, to: $to, groupBy: $groupBy) { groupBy rows { key allocationId day profileId quantitySeconds amount { amountMinor } } totals { quantitySeconds amount { amountMinor currency } } } }`;

describe('adminGrantCredit', () => {
  it('books an admin credit on the user wallet and audits it', async () => {
    const user = await seedUser(world.pool);
    const { data, errors } = await run(admin, GRANT, { input: { userId: user.userId, amount: { amountMinor: '2500', currency: 'USD' }, reason: 'Incident 2026-11-20' } });
    expect(errors).toBeUndefined();
    expect(data!['adminGrantCredit']).toMatchObject({ kind: 'ADMIN_CREDIT', amount: { amountMinor: '2500', currency: 'USD' }, balanceAfter: { amountMinor: '2500' }, description: 'Incident 2026-11-20' });
    const audit = await world.pool.query("SELECT actor_id, action, target_id, details FROM infra.audit_logs WHERE action = 'credit.grant' AND target_id = $1", [data!['adminGrantCredit'].walletId]);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ actor_id: admin.userId, details: { amount_minor: '2500', reason: 'Incident 2026-11-20' } });
  });

  it('refuses callers without the admin role, both or neither owner, and another currency', async () => {
    const user = await seedUser(world.pool);
    const input = { userId: user.userId, amount: { amountMinor: '100', currency: 'USD' }, reason: 'please' };
    expect((await run(user, GRANT, { input })).code).toBe('forbidden');
    expect((await run(admin, GRANT, { input: { ...input, projectId: randomUUID() } })).code).toBe('validation_error');
    expect((await run(admin, GRANT, { input: { ...input, amount: { amountMinor: '100', currency: 'EUR' } } })).code).toBe('unprocessable');
  });
});

describe('balance, ledger and usage', () => {
  it('answers balance, burn rate, runway and low-balance state from the ledger and running meters', async () => {
    const user = await seedUser(world.pool);
    await run(admin, GRANT, { input: { userId: user.userId, amount: { amountMinor: '7200', currency: 'USD' }, reason: 'seed credit' } });
    const allocation = allocationFixture(user.userId, 3_600);
    await handleMeteringEvent({ pool: world.pool, policies }, activeEvent(allocation, new Date()));
    const { data } = await run(user, BALANCE);
    expect(data!['billingBalance']).toMatchObject({
      owner: { kind: 'USER', id: user.userId },
      balance: { amountMinor: '7200', currency: 'USD' },
      burnRatePerHour: { amountMinor: '3600' },
      runwaySeconds: 7200,
      lowBalance: 'NONE',
      autoReleaseDeadline: null,
    });
    // The released contract's `wallet` field answers the same figures.
    const wallet = (await run(user, '{ wallet { id owner { id } balance { amountMinor } runwaySeconds } }')).data!['wallet'];
    expect(wallet).toEqual({ id: data!['billingBalance'].walletId, owner: { id: user.userId }, balance: { amountMinor: '7200' }, runwaySeconds: 7200 });
  });

  it('pages the ledger newest first with stable cursors and filters by kind', async () => {
    const user = await seedUser(world.pool);
    for (const amount of ['100', '200', '300']) await run(admin, GRANT, { input: { userId: user.userId, amount: { amountMinor: amount, currency: 'USD' }, reason: `grant ${amount}` } });
    const first = (await run(user, LEDGER, { first: 2 })).data!['ledgerEntries'];
    expect(first.edges.map((edge: any) => edge.node.amount.amountMinor)).toEqual(['300', '200']);
    expect(first.edges.map((edge: any) => edge.node.balanceAfter.amountMinor)).toEqual(['600', '300']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    // A new entry does not shift the next page.
    await run(admin, GRANT, { input: { userId: user.userId, amount: { amountMinor: '400', currency: 'USD' }, reason: 'grant 400' } });
    const second = (await run(user, LEDGER, { first: 2, after: first.pageInfo.endCursor })).data!['ledgerEntries'];
    expect(second.edges.map((edge: any) => edge.node.amount.amountMinor)).toEqual(['100']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect((await run(user, LEDGER, { kind: 'USAGE_DEBIT' })).data!['ledgerEntries'].edges).toEqual([]);
    // The released contract's kind names still filter.
    expect((await run(user, LEDGER, { kind: 'USAGE' })).data!['ledgerEntries'].edges).toEqual([]);
    expect((await run(user, LEDGER, { kind: 'ADMIN_CREDIT', first: 10 })).data!['ledgerEntries'].edges).toHaveLength(4);
    expect((await run(user, LEDGER, { after: 'not-a-cursor' })).code).toBe('validation_error');
  });

  it("hides a project's wallet from strangers and refuses members without a billing role", async () => {
    const owner = await seedUser(world.pool);
    const viewer = await seedUser(world.pool);
    const stranger = await seedUser(world.pool);
    const projectId = await seedProject(world.pool, owner, [{ actor: viewer, role: 'viewer' }]);
    expect((await run(owner, BALANCE, { projectId })).data!['billingBalance'].owner).toEqual({ kind: 'PROJECT', id: projectId });
    expect((await run(viewer, BALANCE, { projectId })).code).toBe('forbidden');
    expect((await run(stranger, BALANCE, { projectId })).code).toBe('not_found');
  });

  it('reports usage by allocation, day and profile over a window', async () => {
    const user = await seedUser(world.pool);
    await run(admin, GRANT, { input: { userId: user.userId, amount: { amountMinor: '1000000', currency: 'USD' }, reason: 'seed credit' } });
    const profileId = randomUUID();
    const t0 = at('2026-11-20T23:59:00Z');
    const a = allocationFixture(user.userId, 36_000, profileId);
    const b = allocationFixture(user.userId, 3_600, profileId);
    await handleMeteringEvent({ pool: world.pool, policies }, activeEvent(a, t0));
    await handleMeteringEvent({ pool: world.pool, policies }, activeEvent(b, t0));
    await runMeteringTick(world.pool, policies, plusSeconds(t0, 60));
    await handleMeteringEvent({ pool: world.pool, policies }, releasedEvent(a, t0, plusSeconds(t0, 120)));
    await handleMeteringEvent({ pool: world.pool, policies }, releasedEvent(b, t0, plusSeconds(t0, 120)));
    const window = { from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:00Z' };
    const byAllocation = (await run(user, USAGE, { ...window, groupBy: 'ALLOCATION' })).data!['billingUsage'];
    expect(byAllocation.totals).toEqual({ quantitySeconds: 240, amount: { amountMinor: '1320', currency: 'USD' } });
    expect(byAllocation.rows).toHaveLength(2);
    expect(byAllocation.rows.find((row: any) => row.allocationId === a.allocationId)).toMatchObject({ profileId, quantitySeconds: 120, amount: { amountMinor: '1200' } });
    const byDay = (await run(user, USAGE, { ...window, groupBy: 'DAY' })).data!['billingUsage'];
    expect(byDay.rows.map((row: any) => [row.day, row.quantitySeconds])).toEqual([['2026-11-20', 120], ['2026-11-21', 120]]);
    const byProfile = (await run(user, USAGE, { ...window, groupBy: 'PROFILE' })).data!['billingUsage'];
    expect(byProfile.rows).toEqual([{ key: profileId, allocationId: null, day: null, profileId, quantitySeconds: 240, amount: { amountMinor: '1320' } }]);
    expect((await run(user, USAGE, { from: window.to, to: window.from })).code).toBe('unprocessable');
    expect((await run(user, USAGE, { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' })).code).toBe('unprocessable');
  });
});

describe('balanceUpdated', () => {
  it('sends the balance at once, then again after each entry booked on the wallet, and stops listening when closed', async () => {
    const user = await seedUser(world.pool);
    const other = await seedUser(world.pool);
    const stream = (await subscribe({
      schema,
      document: parse('subscription { balanceUpdated { walletId balance { amountMinor } lowBalance } }'),
      contextValue: contextOf(user),
    })) as AsyncIterableIterator<{ data?: { balanceUpdated: { balance: { amountMinor: string } } } }>;
    const next = async () => (await stream.next()).value!.data!.balanceUpdated.balance.amountMinor;
    expect(await next()).toBe('0');
    await run(admin, GRANT, { input: { userId: other.userId, amount: { amountMinor: '999', currency: 'USD' }, reason: 'not theirs' } });
    await run(admin, GRANT, { input: { userId: user.userId, amount: { amountMinor: '1500', currency: 'USD' }, reason: 'theirs' } });
    expect(await next()).toBe('1500');
    await stream.return!();
    const listening = await world.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
    expect(listening.rows[0].n).toBe(0);
  });
});
