import { receiveStripeWebhook, type WebhookDeps } from '@gpuaas/subgraph-billing/payments';
import type { OperationHandlers } from '../operations/registry.js';

/**
 * POST /api/v1/payments/webhook, served by the billing domain directly (Stripe is no GraphQL caller). The body
 * parser kept the raw bytes for this path (http/body-parsers.ts), which is what the signature covers. Every
 * verified event answers 200 {received: true}, duplicates included, so Stripe stops retrying.
 */
export function createStripeWebhookHandlers(deps: WebhookDeps): OperationHandlers {
  return {
    receiveStripeWebhook: async (ctx) => {
      const signature = ctx.headers['stripe-signature'];
      const receipt = await receiveStripeWebhook(deps, {
        rawBody: ctx.rawBody,
        signatureHeader: Array.isArray(signature) ? signature[0] : signature,
        correlationId: ctx.correlationId,
      });
      ctx.logger.info({ stripe_event_id: receipt.stripeEventId, stripe_event_type: receipt.type, duplicate: receipt.duplicate }, 'stripe webhook received');
      return { status: 200, body: { received: true } };
    },
  };
}
