import { Migration } from '@gpuaas/db';

/**
 * The read interface platform publishes to other domains: an OS image's identity and status, so compute's placement
 * can validate an allocation's image without touching platform's tables. doc/architecture/db_schema.sql's platform
 * section carries the same end state.
 */
export class Migration0002PlatformReadInterface extends Migration {
  override up(): void {
    this.addSql(`-- Read interface platform publishes to other domains (compute validates an allocation's OS image when placing it).
-- Other domains call this function and never touch platform.os_images, so platform may reshape the table as long as
-- the function keeps its answers. A deleted image answers with status 'deleted'; an unknown id answers no row.
-- image_ref is what the agent boots (the provisioning task's payload).
CREATE FUNCTION platform.os_image_of(p_id uuid) RETURNS TABLE (id uuid, name text, version text, status text, image_ref text)
  LANGUAGE sql STABLE
  AS $fn$
    SELECT i.id, i.name, i.version, i.status, i.image_ref FROM platform.os_images i WHERE i.id = p_id
  $fn$;
`);
  }
}
