import type { OperationHandlers } from '../registry.js';
import { checkoutHandlers } from '../payments/checkout.js';
import { ledgerHandlers } from './ledger.js';
import { refundHandlers } from './refunds.js';

/** Every `billing`- and `payments`-tagged operation served through GraphQL (the Stripe webhook is a domain route). */
export const billingHandlers: OperationHandlers = { ...ledgerHandlers, ...refundHandlers, ...checkoutHandlers };
