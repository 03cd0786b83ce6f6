import type { OperationHandlers } from '../registry.js';
import { adminLedgerHandlers } from './ledger.js';
import { adminPaymentSessionHandlers } from './payment-sessions.js';
import { adminRefundHandlers } from './refunds.js';

/** /api/v1/admin/{refunds,payment-sessions,billing}*. */
export const adminBillingHandlers: OperationHandlers = { ...adminLedgerHandlers, ...adminRefundHandlers, ...adminPaymentSessionHandlers };
