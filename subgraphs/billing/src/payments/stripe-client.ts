import Stripe from 'stripe';
import { AppError } from '@gpuaas/errors';
import type { StripeSettings } from '../config.js';

const clients = new WeakMap<StripeSettings, Stripe>();

/**
 * One Stripe SDK client per settings object. STRIPE_API_BASE_URL (tests: a loopback server speaking Stripe's API)
 * becomes the SDK's host/port/protocol; unset, the SDK talks to Stripe itself. The SDK retries network failures
 * with its own idempotency keys, so a retry never creates a second object.
 */
export function stripeClientFor(settings: StripeSettings): Stripe {
  let client = clients.get(settings);
  if (!client) {
    const base = settings.apiBaseUrl ? new URL(settings.apiBaseUrl) : undefined;
    client = new Stripe(settings.secretKey, {
      maxNetworkRetries: 2,
      timeout: 15_000,
      telemetry: false,
      ...(base
        ? {
            host: base.hostname,
            port: base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80,
            protocol: base.protocol === 'http:' ? 'http' : 'https',
          }
        : {}),
    });
    clients.set(settings, client);
  }
  return client;
}

/** A Stripe failure as the catalog's 502 upstream_error, keeping Stripe's own code for operators. */
export function upstreamError(error: unknown, what: string): AppError {
  const stripeError = error instanceof Stripe.errors.StripeError ? error : undefined;
  return new AppError('upstream_error', `Stripe could not ${what}`, {
    provider: 'stripe',
    ...(stripeError?.code ? { provider_code: stripeError.code } : {}),
    ...(stripeError?.type ? { provider_error_type: stripeError.type } : {}),
  });
}

export function providerMessage(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500);
}
