import { Migration } from '@mikro-orm/migrations';

/**
 * Lets the outbox relay claim rows with a lease instead of holding row locks across the NATS round trip: one
 * statement claims a batch, one marks it, and a crashed relay's rows come back once the lease lapses. The same
 * change is in doc/architecture/db_schema.sql (the schema_drift gate compares the two).
 */
export class Migration0002InfraOutboxClaims extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE infra.outbox ADD COLUMN claimed_until timestamptz;
COMMENT ON COLUMN infra.outbox.claimed_until IS 'Lease of the relay publishing this row; other relays skip it until then. NULL when unclaimed.';
`);
  }
}
