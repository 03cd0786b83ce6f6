/** What other deployables use of payments: the webhook route (rest-adapter) and the webhook-worker. */
export { receiveStripeWebhook, DEFAULT_WEBHOOK_TOLERANCE_SECONDS, type WebhookDeps, type WebhookDelivery, type WebhookReceipt } from './webhook-receive.js';
export { handleStripeEventReceived, type StripeEventDeps, type StripeEventResult } from './stripe-events.js';
