import type { MigrationSet } from '@gpuaas/db';
import { Migration0001BillingInitial } from './0001-initial.js';
import { Migration0002BillingLedgerDoubleEntry } from './0002-ledger-double-entry.js';
import { Migration0003PaymentStripeEvent } from './0003-payment-stripe-event.js';
import { Migration0004BillingCostSoFar } from './0004-cost-so-far.js';

/** The billing schema's migrations in the order they apply (tracked in billing.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [
  { name: '0001-initial', class: Migration0001BillingInitial },
  { name: '0002-ledger-double-entry', class: Migration0002BillingLedgerDoubleEntry },
  { name: '0003-payment-stripe-event', class: Migration0003PaymentStripeEvent },
  { name: '0004-cost-so-far', class: Migration0004BillingCostSoFar },
];
