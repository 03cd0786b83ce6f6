import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '@gpuaas/db';
import { createEnvelope } from '@gpuaas/events';
import { resolvePolicies } from '@gpuaas/config';
import { handleMeteringEvent, postLedgerEntries, runMeteringTick } from '@gpuaas/subgraph-billing';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import type { ComputeContext, ComputeDeps } from '../src/deps.js';
import { sha256Hex } from '../src/nodes/tokens.js';
import { resolvers } from '../src/resolvers/index.js';
import { loadTypeDefs } from '../src/schema.js';
import { seedTerminalWorld, type TerminalWorld } from './terminal/support/seed.js';

// @apollo/subgraph builds its schema with graphql's CommonJS build; executing it needs that same instance.
const { graphql } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
const policies = resolvePolicies({});
const LIST = `query ($projectId: ID!) { allocations(projectId: $projectId) { edges { node { id costSoFar { amountMinor currency } } } } }`;
const ONE = `query ($id: ID!) { allocation(id: $id) { id costSoFar { amountMinor currency } } }`;

let database: TestDatabase;
let pool: pg.Pool;
let schema: GraphQLSchema;
let world: TerminalWorld;
/** Every statement the resolvers send, to show that a list's costs cost one query. */
const statements: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  const query = pool.query.bind(pool);
  pool.query = ((config: string | { text: string }, values?: unknown[]) => {
    statements.push(typeof config === 'string' ? config : config.text);
    return query(config as never, values as never);
  }) as typeof pool.query;
  // The subgraph's own schema and resolvers, executed in-process so the statements they send can be counted.
  schema = buildSubgraphSchema([{ typeDefs: loadTypeDefs(), resolvers: resolvers as never }]);
  world = await seedTerminalWorld(pool, sha256Hex);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

async function ask<T>(userId: string, source: string, variableValues: Record<string, unknown>): Promise<T> {
  // Only the pool is used on these read paths.
  const deps = { pool } as unknown as ComputeDeps;
  const contextValue: ComputeContext = {
    identity: { userId, role: 'user', sessionId: 's1', tokenVersion: 0, correlationId: 'allocation-cost' },
    correlationId: 'allocation-cost',
    deps,
  };
  const result = await graphql({ schema, source, variableValues, contextValue });
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

const costQueries = () => statements.filter((text) => text.includes('cost_so_far_of')).length;

async function databaseNow(): Promise<Date> {
  const { rows } = await pool.query<{ now: Date }>('SELECT now()');
  return rows[0]!.now;
}

const plusSeconds = (time: Date, seconds: number) => new Date(time.getTime() + seconds * 1000);
const charge = (hourly: number, from: Date, to: Date) => (BigInt(hourly) * BigInt(Math.floor((to.getTime() - from.getTime()) / 1000))) / 3600n;

/** An allocation of the world made `active` at `activeAt`, priced `hourly` in `currency` (compute's row). */
async function activeAllocation(projectId: string, userId: string, activeAt: Date, hourly: number, currency = 'USD') {
  const id = await world.newAllocation(projectId, userId, 'active');
  await pool.query('UPDATE compute.allocations SET active_at = $2, hourly_amount_minor = $3, currency = $4 WHERE id = $1', [id, activeAt, hourly, currency]);
  return id;
}

/** What billing's worker would do with compute's provisioning events for the allocation. */
function billingOf(allocationId: string, userId: string, projectId: string, hourly: number) {
  const payload = { allocation_id: allocationId, user_id: userId, project_id: projectId, hourly_price: { amount_minor: hourly, currency: 'USD' } };
  const deps = { pool, policies };
  return {
    active: (activeAt: Date) => handleMeteringEvent(deps, createEnvelope('provisioning.active', { ...payload, active_at: activeAt.toISOString() })),
    released: (activeAt: Date, releasedAt: Date) =>
      handleMeteringEvent(
        deps,
        createEnvelope('provisioning.releasing.completed', { ...payload, active_at: activeAt.toISOString(), released_at: releasedAt.toISOString(), reason_code: 'user_release' }),
      ),
  };
}

async function ledgerDebit(allocationId: string): Promise<bigint> {
  const { rows } = await pool.query<{ sum: string | null }>("SELECT sum(-amount_minor) AS sum FROM billing.ledger_entries WHERE allocation_id = $1 AND account = 'wallet'", [allocationId]);
  return BigInt(rows[0]?.sum ?? 0);
}

type Cost = { amountMinor: string; currency: string };

describe('Allocation.costSoFar', () => {
  it("answers every allocation of a list from billing's figures in one query", async () => {
    const owner = await world.newUser();
    const projectId = await world.newProject(owner);
    await withTransaction(pool, (client) =>
      postLedgerEntries(client, { idempotencyKey: randomUUID(), kind: 'admin_credit', userId: owner, amountMinor: 1_000_000n, currency: 'USD', description: 'test grant', actorUserId: randomUUID() }),
    );
    const now = await databaseNow();

    const requested = await world.newAllocation(projectId, owner, 'requested');
    const runningSince = plusSeconds(now, -42.5);
    const running = await activeAllocation(projectId, owner, runningSince, 7_919);
    await billingOf(running, owner, projectId, 7_919).active(runningSince);
    await runMeteringTick(pool, policies, plusSeconds(runningSince, 30.2));

    const releasedSince = plusSeconds(now, -600.4);
    const released = await activeAllocation(projectId, owner, releasedSince, 36_000);
    const releasedBilling = billingOf(released, owner, projectId, 36_000);
    await releasedBilling.active(releasedSince);
    await runMeteringTick(pool, policies, plusSeconds(releasedSince, 100));
    await releasedBilling.released(releasedSince, plusSeconds(releasedSince, 250.6));
    await pool.query("UPDATE compute.allocations SET state = 'released', released_at = $2 WHERE id = $1", [released, plusSeconds(releasedSince, 250.6)]);

    // Active in compute, but billing has not metered it (yet): nothing charged, in its own currency.
    const unmetered = await activeAllocation(projectId, owner, plusSeconds(now, -5), 100, 'EUR');

    const before = costQueries();
    const askedFrom = new Date();
    const data = await ask<{ allocations: { edges: { node: { id: string; costSoFar: Cost } }[] } }>(owner, LIST, { projectId });
    const askedUntil = new Date();
    expect(costQueries() - before).toBe(1);

    const costs = new Map(data.allocations.edges.map((edge) => [edge.node.id, edge.node.costSoFar]));
    expect(costs.size).toBe(4);
    expect(costs.get(requested)).toEqual({ amountMinor: '0', currency: 'USD' });
    expect(costs.get(unmetered)).toEqual({ amountMinor: '0', currency: 'EUR' });
    expect(costs.get(released)).toEqual({ amountMinor: '2500', currency: 'USD' });
    expect(BigInt(costs.get(released)!.amountMinor)).toBe(await ledgerDebit(released));
    // Settled (30 s) plus accrued since, up to the moment billing answered.
    const runningCost = BigInt(costs.get(running)!.amountMinor);
    expect(runningCost).toBeGreaterThan(await ledgerDebit(running));
    expect(runningCost).toBeGreaterThanOrEqual(charge(7_919, runningSince, askedFrom));
    expect(runningCost).toBeLessThanOrEqual(charge(7_919, runningSince, askedUntil));
    expect(costs.get(running)!.currency).toBe('USD');
  });

  it('answers a single allocation, and asks billing nothing for one that never became active', async () => {
    const owner = await world.newUser();
    const projectId = await world.newProject(owner);
    const requested = await world.newAllocation(projectId, owner, 'requested');
    const before = costQueries();
    const data = await ask<{ allocation: { costSoFar: Cost } }>(owner, ONE, { id: requested });
    expect(data.allocation.costSoFar).toEqual({ amountMinor: '0', currency: 'USD' });
    expect(costQueries()).toBe(before);
  });
});
