import { Migration } from '@gpuaas/db';

/**
 * Read interface for the notification relay: who hears about a project wallet's balance (its owners and admins).
 * doc/architecture/db_schema.sql's access section carries the same end state.
 */
export class Migration0004AccessProjectBillingMembers extends Migration {
  override up(): void {
    this.addSql(`-- Read interface: the members who answer for a project's wallet (owners and admins); a deleted project has none.
CREATE FUNCTION access.project_billing_members_of(p_project_id uuid) RETURNS TABLE (user_id uuid)
  LANGUAGE sql STABLE
  AS $fn$
    SELECT m.user_id FROM access.project_members m JOIN access.projects p ON p.id = m.project_id
    WHERE m.project_id = p_project_id AND m.role IN ('owner', 'admin') AND p.deleted_at IS NULL
  $fn$;
`);
  }
}
