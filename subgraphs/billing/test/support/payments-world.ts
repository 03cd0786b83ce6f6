import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type pg from 'pg';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { startStripeApiServer, type StripeApiServer } from '@gpuaas/testkit/stripe';
import { createLogger } from '@gpuaas/telemetry';
import type { EventEnvelope } from '@gpuaas/events';
import { loadBillingConfig, type BillingConfig } from '../../src/config.js';
import { postLedgerEntries } from '../../src/ledger/post.js';
import type { Actor } from '../../src/payments/actor.js';
import { openBillingDb, type BillingDb } from './billing-db.js';

export const WEBHOOK_SECRET = 'whsec_payments_test_secret';

export interface PaymentsWorld {
  readonly db: BillingDb;
  readonly pool: pg.Pool;
  readonly stripeApi: StripeApiServer;
  readonly deps: { pool: pg.Pool; logger: ReturnType<typeof createLogger>; config: BillingConfig };
  /** Signs a body as Stripe does, with the SDK's own test-header helper. */
  sign(body: string, timestamp?: number): string;
  close(): Promise<void>;
}

/** A fresh database, the loopback Stripe API, and billing deps whose Stripe client points at it. */
export async function startPaymentsWorld(): Promise<PaymentsWorld> {
  const db = await openBillingDb();
  const stripeApi = await startStripeApiServer();
  const config = loadBillingConfig({ STRIPE_API_BASE_URL: stripeApi.url, STRIPE_SECRET_KEY: 'sk_test_payments', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  const signer = new Stripe('sk_test_signer');
  return {
    db,
    pool: db.pool,
    stripeApi,
    deps: { pool: db.pool, logger: createLogger('billing-payments-test', 'silent'), config },
    sign: (body, timestamp) => signer.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET, ...(timestamp === undefined ? {} : { timestamp }) }),
    async close() {
      await stripeApi.close();
      await db.close();
    },
  };
}

export async function seedUser(pool: pg.Pool, options: { admin?: boolean } = {}): Promise<Actor> {
  const tag = randomBytes(4).toString('hex');
  const userId = uuidv7();
  await pool.query(`INSERT INTO access.users (id, email, display_name, role) VALUES ($1, $2, $3, $4)`, [userId, `p-${tag}@example.test`, `Payer ${tag}`, options.admin ? 'admin' : 'user']);
  return { userId, isAdmin: Boolean(options.admin), correlationId: `test-${tag}` };
}

export async function seedProject(pool: pg.Pool, owner: Actor, members: Array<{ actor: Actor; role: string }> = []): Promise<string> {
  const projectId = uuidv7();
  await pool.query(`INSERT INTO access.projects (id, name, owner_id) VALUES ($1, $2, $3)`, [projectId, `Project ${projectId.slice(-6)}`, owner.userId]);
  await pool.query(`INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, 'owner')`, [projectId, owner.userId]);
  for (const member of members) {
    await pool.query(`INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, $3)`, [projectId, member.actor.userId, member.role]);
  }
  return projectId;
}

/** The outbox envelopes on one subject, oldest first. */
export async function outboxOf(pool: pg.Pool, subject: string): Promise<EventEnvelope[]> {
  const { rows } = await pool.query<{ envelope: EventEnvelope }>(`SELECT envelope FROM infra.outbox WHERE subject = $1 ORDER BY created_at, event_id`, [subject]);
  return rows.map((row) => row.envelope);
}

/** What helper G's billing-worker does with payments.balance_credited: one topup_credit per payment. */
export async function bookTopUp(pool: pg.Pool, envelope: EventEnvelope): Promise<void> {
  const payload = envelope.payload as { payment_id: string; wallet_id: string; amount: { amount_minor: number; currency: string } };
  await withTransaction(pool, (client) =>
    postLedgerEntries(client, {
      idempotencyKey: `topup:${payload.payment_id}`,
      kind: 'topup_credit',
      walletId: payload.wallet_id,
      amountMinor: BigInt(payload.amount.amount_minor),
      currency: payload.amount.currency,
      paymentId: payload.payment_id,
      description: 'Top-up via Stripe checkout',
    }),
  );
}
