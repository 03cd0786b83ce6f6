import { uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, NotFound, Validation } from '@gpuaas/errors';
import type { BillingDeps } from '../deps.js';
import { DEFAULT_CURRENCY, ensureWallet } from '../ledger/wallets.js';
import { requirePayingRole, type Actor } from './actor.js';
import { findCheckoutSession, insertCheckoutSession, type CheckoutSessionRecord } from './checkout-sessions.js';
import { stripeClientFor, upstreamError } from './stripe-client.js';

export interface CreateCheckoutCommand {
  readonly amountMinor: string;
  readonly currency: string;
  readonly projectId: string | null;
  readonly successUrl: string | null;
  readonly cancelUrl: string | null;
}

/**
 * Opens a Stripe Checkout session for a top-up of the caller's (or a project's) wallet. Nothing is credited here:
 * the webhook's `checkout.session.completed` does that. Our session id is chosen first and travels to Stripe as
 * `client_reference_id`, in the metadata and in the Idempotency-Key, so a retried call never opens a second
 * Stripe session. A Stripe failure answers 502 upstream_error and stores nothing.
 */
export async function createCheckoutSession(deps: Pick<BillingDeps, 'pool' | 'logger' | 'config'>, actor: Actor, command: CreateCheckoutCommand): Promise<CheckoutSessionRecord> {
  const { policies, stripe: settings } = deps.config;
  const amount = parseAmount(command.amountMinor);
  const currency = command.currency.toUpperCase();
  if (amount < BigInt(policies.checkout_min_amount_minor) || amount > BigInt(policies.checkout_max_amount_minor)) {
    throw new AppError('unprocessable', `A top-up must be between ${policies.checkout_min_amount_minor} and ${policies.checkout_max_amount_minor} minor units`, {
      min_amount_minor: policies.checkout_min_amount_minor,
      max_amount_minor: policies.checkout_max_amount_minor,
    });
  }
  if (currency !== DEFAULT_CURRENCY) {
    throw new AppError('unprocessable', `Wallets are kept in ${DEFAULT_CURRENCY}`, { wallet_currency: DEFAULT_CURRENCY });
  }
  const successUrl = allowedReturnUrl(command.successUrl, settings.checkoutSuccessUrl, 'success_url', settings);
  const cancelUrl = allowedReturnUrl(command.cancelUrl, settings.checkoutCancelUrl, 'cancel_url', settings);
  if (command.projectId) await requirePayingRole(deps.pool, command.projectId, actor);

  const wallet = await withTransaction(deps.pool, (client) => ensureWallet(client, command.projectId ? 'project' : 'user', command.projectId ?? actor.userId, currency));
  const customerId = await stripeCustomerOf(deps, actor.userId);
  const id = uuidv7();
  const metadata = { checkout_session_id: id, wallet_id: wallet.id, user_id: actor.userId };
  let session;
  try {
    session = await stripeClientFor(settings).checkout.sessions.create(
      {
        mode: 'payment',
        customer: customerId,
        client_reference_id: id,
        line_items: [{ quantity: 1, price_data: { currency: currency.toLowerCase(), unit_amount: Number(amount), product_data: { name: 'GPUaaS balance top-up' } } }],
        payment_intent_data: { metadata },
        metadata,
        success_url: successUrl,
        cancel_url: cancelUrl,
      },
      { idempotencyKey: `checkout-session-${id}` },
    );
  } catch (error) {
    deps.logger.warn({ err: error, checkout_session_id: id }, 'stripe refused to open a checkout session');
    throw upstreamError(error, 'open a checkout session');
  }
  if (!session.url) throw upstreamError(undefined, 'open a checkout session with a payment page');
  await insertCheckoutSession(deps.pool, {
    id,
    userId: actor.userId,
    walletId: wallet.id,
    stripeSessionId: session.id,
    amountMinor: amount.toString(),
    currency,
    url: session.url,
    expiresAt: new Date(session.expires_at * 1000),
  });
  const created = await findCheckoutSession(deps.pool, policies.refund_window_days, id, actor.userId);
  if (!created) throw NotFound('Checkout session');
  return created;
}

/** The user's Stripe customer, created once (Stripe's idempotency key and our unique row make a race harmless). */
async function stripeCustomerOf(deps: Pick<BillingDeps, 'pool' | 'config'>, userId: string): Promise<string> {
  const known = await deps.pool.query<{ stripe_customer_id: string }>('SELECT stripe_customer_id FROM billing.stripe_customers WHERE user_id = $1', [userId]);
  if (known.rows[0]) return known.rows[0].stripe_customer_id;
  let customer;
  try {
    customer = await stripeClientFor(deps.config.stripe).customers.create({ metadata: { user_id: userId } }, { idempotencyKey: `customer-${userId}` });
  } catch (error) {
    throw upstreamError(error, 'create a customer');
  }
  await deps.pool.query('INSERT INTO billing.stripe_customers (user_id, stripe_customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, customer.id]);
  const { rows } = await deps.pool.query<{ stripe_customer_id: string }>('SELECT stripe_customer_id FROM billing.stripe_customers WHERE user_id = $1', [userId]);
  return rows[0]?.stripe_customer_id ?? customer.id;
}

function parseAmount(value: string): bigint {
  if (!/^\d{1,18}$/.test(value)) throw Validation([{ field: 'body.amount.amount_minor', message: 'must be a positive integer' }]);
  return BigInt(value);
}

/**
 * Return URLs must lead back to the console: the same origin as the configured success/cancel pages. Anything
 * else would let a crafted checkout send a paying user to a stranger's page.
 */
function allowedReturnUrl(requested: string | null, fallback: string, field: string, settings: { checkoutSuccessUrl: string; checkoutCancelUrl: string }): string {
  if (requested === null) return fallback;
  const allowedOrigins = new Set([new URL(settings.checkoutSuccessUrl).origin, new URL(settings.checkoutCancelUrl).origin]);
  let origin: string;
  try {
    origin = new URL(requested).origin;
  } catch {
    throw Validation([{ field: `body.${field}`, message: 'must be an absolute URL' }]);
  }
  if (!allowedOrigins.has(origin)) throw new AppError('unprocessable', `${field} is not on the allow-list`, { field, allowed_origins: [...allowedOrigins] });
  return requested;
}
