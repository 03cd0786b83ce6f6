import { Migration } from '@gpuaas/db';

/**
 * What the catalog contract needs of regions (a human-readable location; `maintenance` instead of `disabled`, and
 * `retired` regions that are no longer listed), plus the read interface compute publishes to platform: how many live
 * allocations run each OS image. doc/architecture/db_schema.sql's compute section carries the same SQL.
 */
export class Migration0004ComputeCatalogRegions extends Migration {
  override up(): void {
    this.addSql(SQL);
  }
}

const SQL = `-- Regions as the catalog shows them: a location for people, and a status that is active (places allocations),
-- maintenance (listed, places nothing) or retired (not listed; kept because allocations and prices refer to it).
ALTER TABLE compute.regions ADD COLUMN location text NOT NULL DEFAULT '';
ALTER TABLE compute.regions DROP CONSTRAINT regions_status_check;
UPDATE compute.regions SET status = 'maintenance' WHERE status = 'disabled';
ALTER TABLE compute.regions ADD CONSTRAINT regions_status_check CHECK (status IN ('active', 'maintenance', 'retired'));

-- Read interface compute publishes to platform (an OS image's usage, and the refusal to delete one in use). Platform
-- calls this function and never touches compute.allocations.
CREATE INDEX allocations_os_image_live_idx ON compute.allocations (os_image_id)
  WHERE state IN ('requested', 'provisioning', 'active', 'releasing');
CREATE FUNCTION compute.live_allocation_counts_of_os_images(p_os_image_ids uuid[])
  RETURNS TABLE (os_image_id uuid, live_allocation_count integer)
  LANGUAGE sql STABLE
  AS $fn$
    SELECT a.os_image_id, count(*)::integer FROM compute.allocations a
    WHERE a.os_image_id = ANY (p_os_image_ids) AND a.state IN ('requested', 'provisioning', 'active', 'releasing')
    GROUP BY a.os_image_id
  $fn$;
`;
