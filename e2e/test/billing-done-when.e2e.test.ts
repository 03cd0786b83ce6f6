import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeApiServer, type StripeApiServer } from '@gpuaas/testkit/stripe';
import { subscribe, wsClient, type Subscription } from '../../gateway/test/support/ws-client.js';
import { NODE_GPU_MODEL, NODE_REGION, PLATFORM_PASSWORD, startPlatformStack, until, type PlatformStack } from './support/platform-stack.js';
import { restCall, type RestAnswer, type RestRequest } from './support/rest-client.js';
import { newSshPublicKey } from './support/ssh-keys.js';

// Issue 5's "done when", through REST (and the gateway's graphql-ws where the user "sees"), against the whole
// platform started from nothing: a new user tops up through Stripe checkout, runs an allocation that burns the
// balance down, hears the low-balance warning, loses the allocation to the auto-release when the balance runs out
// (billing stops at that second), tops up again and gets part of it refunded by an operator; every figure on the
// ledger reconciles to the cent.

const WEBHOOK_SECRET = 'whsec_e2e_billing_done_when';
const PROFILE = 'whole';
const CURRENCY = 'USD';
/** The smallest top-up the default policy allows. */
const TOPUP_MINOR = 500;
/**
 * An expensive profile: 25 cents a second, so the top-up lasts 20 seconds and every whole second costs a whole
 * number of cents (the reconciliation below is then exact without rounding in the test's own arithmetic).
 */
const HOURLY_MINOR = 90_000;
const REFUND_MINOR = 300;
const policies = {
  POLICY_METERING_TICK_SECONDS: '1',
  // Warned at a runway below 14 s (after ~6 s), pending below 7 s (after ~13 s), depleted at 0 (after 20 s).
  POLICY_LOW_BALANCE_WARNING_RUNWAY_SECONDS: '14',
  POLICY_AUTO_RELEASE_GRACE_SECONDS: '7',
  // The 20 s runway of one top-up admits the allocation; an empty wallet does not.
  POLICY_MIN_RUNWAY_FOR_NEW_ALLOCATION_SECONDS: '10',
};

type Json = Record<string, any>;

interface LiveBalance {
  readonly balance: { amountMinor: string };
  readonly burnRatePerHour: { amountMinor: string };
  readonly runwaySeconds: number | null;
  readonly lowBalance: string;
  readonly autoReleaseDeadline: string | null;
}
const BALANCE_FEED = `subscription { balanceUpdated { balance { amountMinor currency } burnRatePerHour { amountMinor } runwaySeconds lowBalance autoReleaseDeadline } }`;
interface LiveAllocation {
  readonly id: string;
  readonly state: string;
  readonly stateReason: string | null;
}
const ALLOCATION_FEED = `subscription($p: ID!) { allocationUpdated(projectId: $p) { id state stateReason } }`;

let stack: PlatformStack;
let stripeApi: StripeApiServer;
const sockets: Client[] = [];

beforeAll(async () => {
  stripeApi = await startStripeApiServer();
  stack = await startPlatformStack({
    env: { ...policies, STRIPE_API_BASE_URL: stripeApi.url, STRIPE_SECRET_KEY: 'sk_test_billing_e2e', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
  });
  await setPrice(PROFILE, HOURLY_MINOR);
}, 120_000);

afterAll(async () => {
  for (const socket of sockets.splice(0)) await socket.dispose();
  await stack?.close();
  await stripeApi?.close();
});

/** The operator's price list has no API yet: a new price row, effective now, as the catalog keeps them. */
async function setPrice(profile: string, hourlyMinor: number): Promise<void> {
  await stack.db.query(
    `INSERT INTO compute.prices (id, profile_id, region_id, hourly_amount_minor, currency, effective_from)
     SELECT gen_random_uuid(), p.id, r.id, $3, $4, now()
     FROM compute.slice_profiles p JOIN compute.gpu_models m ON m.id = p.gpu_model_id, compute.regions r
     WHERE m.code = $1 AND p.name = $2 AND r.code = $5`,
    [NODE_GPU_MODEL, profile, hourlyMinor, CURRENCY, NODE_REGION],
  );
}

const rest = (token: string | undefined, operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}) =>
  restCall(stack.restUrl, operationId, method, path, { ...request, token });
const mutate = (token: string | undefined, operationId: string, method: string, path: string, body?: unknown) =>
  rest(token, operationId, method, path, { ...(body !== undefined ? { body } : {}), headers: { 'x-idempotency-key': randomUUID() } });
function ok(answer: RestAnswer, status: number): Json {
  expect(answer.status, answer.text).toBe(status);
  return answer.json as Json;
}

function feed<T>(token: string, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  // The token travels in graphql-ws's connection_init payload, never in the URL.
  const socket = wsClient(stack.gatewayUrl, { authorization: `Bearer ${token}` });
  sockets.push(socket);
  return subscribe<T>(socket, query, variables);
}

/** The payloads of `field` a subscription has delivered so far, oldest first. */
function updates<T, K extends keyof T>(subscription: Subscription<T>, field: K): Array<NonNullable<T[K]>> {
  if (subscription.failure) throw new Error(`subscription failed: ${JSON.stringify(subscription.failure)}`);
  const delivered: Array<NonNullable<T[K]>> = [];
  for (const result of subscription.results) {
    const value = result.data?.[field];
    if (value !== undefined && value !== null) delivered.push(value as NonNullable<T[K]>);
  }
  return delivered;
}

async function newUser(name: string): Promise<{ id: string; token: string }> {
  const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
  const registered = ok(await mutate(undefined, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { email, password: PLATFORM_PASSWORD, display_name: name }), 201);
  const login = ok(await rest(undefined, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PLATFORM_PASSWORD } }), 200);
  return { id: registered['user']['id'], token: login['access_token'] };
}

/** A top-up through Stripe Checkout: the session, Stripe's signed webhook (delivered twice, credited once), the credit. */
async function topUp(token: string, amountMinor: number): Promise<string> {
  const session = ok(await mutate(token, 'createCheckoutSession', 'POST', '/api/v1/payments/checkout', { amount: { amount_minor: amountMinor, currency: CURRENCY } }), 201);
  const body = JSON.stringify(stripeApi.completeSession(session['stripe_session_id']));
  const signature = new Stripe('sk_test_signer').webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
  for (let delivery = 0; delivery < 2; delivery++) {
    const response = await fetch(`${stack.restUrl}/api/v1/payments/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
    expect(response.status).toBe(200);
  }
  await until('the checkout to complete', async () => {
    const answer = ok(await rest(token, 'getCheckoutSession', 'GET', `/api/v1/payments/checkout/${session['id']}`), 200);
    return answer['status'] === 'complete' ? true : undefined;
  });
  await until('the top-up credit on the ledger', async () => {
    const page = ok(await rest(token, 'listLedgerEntries', 'GET', '/api/v1/billing/ledger?kind=topup_credit'), 200);
    return page['data'].some((entry: Json) => entry['payment_id'] === session['id']) ? true : undefined;
  });
  return session['id'];
}

async function balance(token: string): Promise<Json> {
  return ok(await rest(token, 'getBillingBalance', 'GET', '/api/v1/billing/balance'), 200);
}

/** Every ledger entry of the caller's wallet, through the REST door, newest first. */
async function ledger(token: string): Promise<Json[]> {
  const entries: Json[] = [];
  let cursor: string | null = null;
  do {
    const page: Json = ok(await rest(token, 'listLedgerEntries', 'GET', `/api/v1/billing/ledger?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
    entries.push(...page['data']);
    cursor = page['next_cursor'];
  } while (cursor);
  return entries;
}

async function outboxEvents(subject: string, walletId: string): Promise<Json[]> {
  const { rows } = await stack.db.query<{ envelope: Json }>(
    `SELECT envelope FROM infra.outbox WHERE subject = $1 AND envelope->'payload'->>'wallet_id' = $2 ORDER BY created_at`,
    [subject, walletId],
  );
  return rows.map((row) => row.envelope);
}

describe('issue 5 done when, through REST', () => {
  it('a new user tops up, burns the balance down, is warned, is auto-released at zero, is refunded, and the ledger reconciles', async () => {
    const operator = stack.operator.token;
    const user = await newUser('ada');
    const projectId = ok(await mutate(user.token, 'createProject', 'POST', '/api/v1/projects', { name: 'billing-done-when' }), 201)['id'] as string;
    const sshKeyId = ok(await mutate(user.token, 'createSshKey', 'POST', '/api/v1/ssh-keys', { name: 'laptop', public_key: newSshPublicKey('ada@e2e').line }), 201)['id'] as string;
    const osImageId = ok(await rest(user.token, 'listCatalogOsImages', 'GET', '/api/v1/catalog/os-images'), 200)['data'][0]['id'] as string;
    const allocation = { project_id: projectId, gpu_model: NODE_GPU_MODEL, profile_name: PROFILE, region: NODE_REGION, os_image_id: osImageId, ssh_key_ids: [sshKeyId] };

    // Nothing to burn yet: a new allocation is refused for want of balance.
    const refused = await mutate(user.token, 'createAllocation', 'POST', '/api/v1/allocations', { ...allocation, name: 'too-early' });
    expect(refused.status, refused.text).toBe(402);
    expect(refused.json).toMatchObject({ code: 'insufficient_balance' });

    // The top-up.
    const firstPayment = await topUp(user.token, TOPUP_MINOR);
    const funded = await balance(user.token);
    expect(funded).toMatchObject({ balance: { amount_minor: TOPUP_MINOR, currency: CURRENCY }, burn_rate_per_hour: { amount_minor: 0 }, runway_seconds: null, low_balance: 'none' });
    const walletId = funded['wallet_id'] as string;

    // The allocation, watched at the gateway with the balance.
    const balanceFeed = feed<{ balanceUpdated: LiveBalance }>(user.token, BALANCE_FEED);
    const allocationFeed = feed<{ allocationUpdated: LiveAllocation }>(user.token, ALLOCATION_FEED, { p: projectId });
    await until('the balance feed to answer', async () => (updates(balanceFeed, 'balanceUpdated').length > 0 ? true : undefined));
    const created = ok(await mutate(user.token, 'createAllocation', 'POST', '/api/v1/allocations', { ...allocation, name: 'burner' }), 202);
    expect(created).toMatchObject({ state: 'requested', hourly_price: { amount_minor: HOURLY_MINOR, currency: CURRENCY } });
    const allocationId = created['id'] as string;
    await until('the allocation active on the subscription', async () =>
      updates(allocationFeed, 'allocationUpdated').some((update) => update.id === allocationId && update.state === 'ACTIVE') ? true : undefined,
    );

    // The balance, burn rate and runway move (REST), and the subscription shows the same.
    const burning = await until('the balance to move', async () => {
      const now = await balance(user.token);
      return now['balance']['amount_minor'] < TOPUP_MINOR ? now : undefined;
    });
    expect(burning).toMatchObject({ burn_rate_per_hour: { amount_minor: HOURLY_MINOR } });
    expect(burning['runway_seconds']).toBe(Math.floor((burning['balance']['amount_minor'] * 3600) / HOURLY_MINOR));
    expect(burning['runway_seconds']).toBeLessThan(20);
    // What the allocation has cost so far covers at least what the ledger has settled of it by then.
    const running = ok(await rest(user.token, 'getAllocation', 'GET', `/api/v1/allocations/${allocationId}`), 200);
    expect(running['cost_so_far']['currency']).toBe(CURRENCY);
    expect(running['cost_so_far']['amount_minor']).toBeGreaterThanOrEqual(TOPUP_MINOR - burning['balance']['amount_minor']);
    expect(running['cost_so_far']['amount_minor']).toBeGreaterThan(0);
    await until('a lower balance and runway on the subscription', async () =>
      updates(balanceFeed, 'balanceUpdated').some(
        (update) => Number(update.balance.amountMinor) < TOPUP_MINOR && Number(update.burnRatePerHour.amountMinor) === HOURLY_MINOR && update.runwaySeconds !== null && update.runwaySeconds < 20,
      )
        ? true
        : undefined,
    );

    // The warning, then the pending auto-release with its deadline.
    await until('the low-balance warning', async () => ((await balance(user.token))['low_balance'] !== 'none' ? true : undefined), 20_000);
    const pending = await until('the pending auto-release', async () => {
      const now = await balance(user.token);
      return ['auto_release_pending', 'depleted'].includes(now['low_balance']) ? now : undefined;
    }, 20_000);
    if (pending['low_balance'] === 'auto_release_pending') expect(Date.parse(pending['auto_release_deadline'])).toBeGreaterThan(Date.now() - 2_000);

    // The balance runs out: the allocation is released by force, seen live.
    const released = await until(
      'the forced release on the subscription',
      async () => updates(allocationFeed, 'allocationUpdated').find((update) => update.id === allocationId && update.state === 'RELEASED'),
      30_000,
    );
    expect(released.stateReason).toBe('balance_depleted');
    const final = ok(await rest(user.token, 'getAllocation', 'GET', `/api/v1/allocations/${allocationId}`), 200);
    expect(final).toMatchObject({ state: 'released', state_reason: 'balance_depleted' });
    const depleted = await balance(user.token);
    expect(depleted).toMatchObject({ low_balance: 'depleted', burn_rate_per_hour: { amount_minor: 0 }, runway_seconds: null });
    expect(depleted['balance']['amount_minor']).toBeLessThanOrEqual(0);
    const seenStates = updates(balanceFeed, 'balanceUpdated').map((update) => update.lowBalance);
    expect(seenStates).toContain('WARNING');
    expect(seenStates.at(-1)).toBe('DEPLETED');
    const rank = ['NONE', 'WARNING', 'AUTO_RELEASE_PENDING', 'DEPLETED'];
    expect(seenStates.map((state) => rank.indexOf(state))).toEqual([...seenStates.map((state) => rank.indexOf(state))].sort((a, b) => a - b));

    // An empty wallet admits nothing.
    const stillRefused = await mutate(user.token, 'createAllocation', 'POST', '/api/v1/allocations', { ...allocation, name: 'after-depletion' });
    expect(stillRefused.status, stillRefused.text).toBe(402);
    expect(stillRefused.json).toMatchObject({ code: 'insufficient_balance' });

    // A second top-up lifts the wallet out of depletion; part of it is refunded by an operator.
    const secondPayment = await topUp(user.token, TOPUP_MINOR);
    expect((await balance(user.token))['low_balance']).toBe('none');
    const requested = ok(
      await mutate(user.token, 'requestRefund', 'POST', '/api/v1/billing/refunds', { amount: { amount_minor: REFUND_MINOR, currency: CURRENCY }, reason: 'Ran out sooner than planned' }),
      201,
    );
    expect(requested).toMatchObject({ status: 'requested', payment_id: secondPayment, amount: { amount_minor: REFUND_MINOR, currency: CURRENCY } });
    const queue = ok(await rest(operator, 'adminListRefunds', 'GET', '/api/v1/admin/refunds?status=requested'), 200);
    expect(queue['data'].map((row: Json) => row['id'])).toContain(requested['id']);
    const approved = ok(await mutate(operator, 'adminApproveRefund', 'POST', `/api/v1/admin/refunds/${requested['id']}/approve`, { note: 'Unused credit' }), 200);
    expect(approved).toMatchObject({ status: 'succeeded' });
    const { rows: audit } = await stack.db.query('SELECT action, actor_id FROM infra.audit_logs WHERE target_id = $1', [requested['id']]);
    expect(audit).toEqual([{ action: 'refund.approve', actor_id: stack.operator.userId }]);
    expect([...stripeApi.refunds.values()].map((refund) => refund['amount'])).toEqual([REFUND_MINOR]);

    // Reconciliation, to the cent.
    const { rows: allocationRows } = await stack.db.query<{ active_at: Date; releasing_at: Date; released_at: Date; state_reason: string }>(
      'SELECT active_at, releasing_at, released_at, state_reason FROM compute.allocations WHERE id = $1',
      [allocationId],
    );
    const times = allocationRows[0]!;
    const { rows: meterRows } = await stack.db.query<{ started_at: Date; stopped_at: Date; last_settled_until: Date }>(
      'SELECT started_at, stopped_at, last_settled_until FROM billing.meters WHERE allocation_id = $1',
      [allocationId],
    );
    const meter = meterRows[0]!;
    // Metering starts when the allocation went active and stops at the second the balance ran out: the depletion,
    // not the later end of the release the depletion asked for.
    expect(meter.started_at.getTime()).toBe(times.active_at.getTime());
    expect(meter.last_settled_until.getTime()).toBe(meter.stopped_at.getTime());
    const [depletion] = await outboxEvents('billing.balance_depleted', walletId);
    expect(depletion).toBeDefined();
    const depletedAt = new Date(depletion!['payload']['depleted_at']);
    const activeSeconds = Math.floor((depletedAt.getTime() - times.active_at.getTime()) / 1000);
    expect(meter.stopped_at.getTime()).toBe(times.active_at.getTime() + activeSeconds * 1000);
    // compute began the release only after billing found the wallet depleted (and had stopped the meter).
    expect(times.releasing_at.getTime()).toBeGreaterThanOrEqual(depletedAt.getTime());
    expect(times.released_at.getTime()).toBeGreaterThanOrEqual(times.releasing_at.getTime());
    // The force release follows the depletion within the tick it was found in plus the release itself.
    expect(times.released_at.getTime() - meter.stopped_at.getTime()).toBeLessThan(5_000);
    const billedSeconds = Math.floor((meter.stopped_at.getTime() - times.active_at.getTime()) / 1000);
    expect(billedSeconds).toBeGreaterThanOrEqual(20);
    const expectedUsage = Math.floor((HOURLY_MINOR * billedSeconds) / 3600);

    const entries = await ledger(user.token);
    const sum = (kind: string) => entries.filter((entry) => entry['kind'] === kind).reduce((total, entry) => total + entry['amount']['amount_minor'], 0);
    expect(entries.every((entry) => entry['wallet_id'] === walletId)).toBe(true);
    expect(sum('topup_credit')).toBe(2 * TOPUP_MINOR);
    expect(sum('usage_debit')).toBe(-expectedUsage);
    // The released allocation's cost is exactly what the ledger debited for it.
    expect(final['cost_so_far']).toEqual({ amount_minor: expectedUsage, currency: CURRENCY });
    expect(entries.filter((entry) => entry['kind'] === 'usage_debit').every((entry) => entry['allocation_id'] === allocationId)).toBe(true);
    expect(sum('refund')).toBe(-REFUND_MINOR);
    expect(entries.filter((entry) => !['topup_credit', 'usage_debit', 'refund'].includes(entry['kind']))).toEqual([]);
    expect(entries.filter((entry) => entry['kind'] === 'topup_credit').map((entry) => entry['payment_id']).sort()).toEqual([firstPayment, secondPayment].sort());

    const settled = await balance(user.token);
    const balanceMinor = settled['balance']['amount_minor'] as number;
    expect(balanceMinor).toBe(2 * TOPUP_MINOR - expectedUsage - REFUND_MINOR);
    expect(entries.reduce((total, entry) => total + entry['amount']['amount_minor'], 0)).toBe(balanceMinor);
    expect(entries[0]!['balance_after']['amount_minor']).toBe(balanceMinor);
    // Each entry's running balance follows from the one before it (newest first here).
    for (let i = 0; i + 1 < entries.length; i++) {
      expect(entries[i]!['balance_after']['amount_minor']).toBe(entries[i + 1]!['balance_after']['amount_minor'] + entries[i]!['amount']['amount_minor']);
    }
    const usage = ok(
      await rest(user.token, 'getBillingUsage', 'GET', `/api/v1/billing/usage?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&group_by=allocation`),
      200,
    );
    expect(usage['rows']).toEqual([expect.objectContaining({ allocation_id: allocationId, quantity_seconds: billedSeconds, amount: { amount_minor: expectedUsage, currency: CURRENCY } })]);
    expect(usage['totals']).toEqual({ quantity_seconds: billedSeconds, amount: { amount_minor: expectedUsage, currency: CURRENCY } });

    // Double entry: every ledger transaction that touched the wallet balances to zero.
    const { rows: unbalanced } = await stack.db.query(
      `SELECT transaction_id FROM billing.ledger_entries WHERE transaction_id IN (SELECT transaction_id FROM billing.ledger_entries WHERE wallet_id = $1)
       GROUP BY transaction_id HAVING sum(amount_minor) <> 0`,
      [walletId],
    );
    expect(unbalanced).toEqual([]);

    // The low-balance policy announced each crossing exactly once, and asked compute for exactly one release.
    for (const subject of ['billing.low_balance_warning', 'billing.auto_release_pending', 'billing.balance_depleted']) {
      expect(await outboxEvents(subject, walletId), subject).toHaveLength(1);
    }
    const [warning] = await outboxEvents('billing.low_balance_warning', walletId);
    expect(warning!['payload']).toMatchObject({ threshold_seconds: 14, burn_rate_per_hour: { amount_minor: HOURLY_MINOR, currency: CURRENCY } });
    const { rows: releases } = await stack.db.query<{ envelope: Json }>(
      `SELECT envelope FROM infra.outbox WHERE subject = 'provisioning.force_release_requested' AND envelope->'payload'->>'allocation_id' = $1`,
      [allocationId],
    );
    expect(releases.map((row) => row.envelope['payload'])).toEqual([expect.objectContaining({ reason_code: 'balance_depleted', requested_by: { kind: 'billing', id: walletId } })]);
    // The notification relay (if this tree has one) tells the user once.
    const { rows: notifications } = await stack.db.query<{ kind: string }>('SELECT kind FROM platform.notifications WHERE user_id = $1', [user.id]);
    if (notifications.length > 0) expect(notifications.filter((row) => row.kind.includes('low_balance_warning'))).toHaveLength(1);

    // Billing stopped for good: nothing was metered past the stop, through the ticks of the top-up and the refund.
    const { rows: lastPeriod } = await stack.db.query<{ end: Date }>('SELECT max(period_end) AS end FROM billing.meter_periods WHERE allocation_id = $1', [allocationId]);
    expect(lastPeriod[0]!.end.getTime()).toBe(meter.stopped_at.getTime());
    expect((await balance(user.token))['balance']['amount_minor']).toBe(balanceMinor);
  }, 90_000);
});
