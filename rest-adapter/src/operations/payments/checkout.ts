import { byId, documentsBeside, graphqlOperation } from '../graphql-operation.js';
import type { OperationHandlers } from '../registry.js';
import { checkoutSessionFilters, moneyInput, objectAt, pageAt } from './payments-rest-shape.js';

const doc = documentsBeside(import.meta.url);

/** Stripe Checkout top-ups under /api/v1/payments/checkout (the webhook is served by rest-adapter/src/webhooks/). */
export const checkoutHandlers = {
  createCheckoutSession: graphqlOperation({ document: doc('create-checkout-session'), variables: moneyInput(), respond: objectAt('createCheckoutSession', 201) }),
  listCheckoutSessions: graphqlOperation({ document: doc('list-checkout-sessions'), variables: checkoutSessionFilters(), respond: pageAt('checkoutSessions') }),
  getCheckoutSession: graphqlOperation({ document: doc('get-checkout-session'), variables: byId, respond: objectAt('checkoutSession') }),
} satisfies OperationHandlers;
