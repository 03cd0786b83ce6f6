import { Migration } from '@gpuaas/db';

/**
 * The contract lets an allocation have no display name (AllocationCreate.name is optional, AllocationPatch.name null
 * clears it), so the column becomes nullable; the length check still applies to a name that is set.
 * doc/architecture/db_schema.sql's compute section carries the same statement.
 */
export class Migration0002AllocationNameOptional extends Migration {
  override up(): void {
    this.addSql(`-- An allocation's display name is optional (the contract's AllocationCreate.name; a PATCH with null clears it).
ALTER TABLE compute.allocations ALTER COLUMN name DROP NOT NULL;
`);
  }
}
