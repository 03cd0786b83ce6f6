import { Migration } from '@gpuaas/db';

/**
 * Operators reconcile top-ups with Stripe's dashboard by the event that credited them (AdminPaymentSession's
 * stripe_event_id), so a payment remembers it. doc/architecture/db_schema.sql's billing section carries the same statement.
 */
export class Migration0003PaymentStripeEvent extends Migration {
  override up(): void {
    this.addSql(`-- The checkout.session.completed event that created the payment (reconciliation with Stripe's dashboard).
ALTER TABLE billing.payments ADD COLUMN stripe_event_id text;
`);
  }
}
