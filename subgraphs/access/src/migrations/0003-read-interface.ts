import { Migration } from '@gpuaas/db';

/**
 * The read interface access publishes to other domains: a caller's role in a project and a user's SSH public keys.
 * doc/architecture/db_schema.sql's access section carries the same end state.
 */
export class Migration0003AccessReadInterface extends Migration {
  override up(): void {
    this.addSql(`-- Read interface access publishes to other domains (compute checks project roles when placing and reading
-- allocations; the provisioning worker installs SSH keys). Other domains call these functions and never touch the
-- tables behind them, so access may reshape its tables as long as the functions keep their answers.
CREATE FUNCTION access.project_role_of(p_project_id uuid, p_user_id uuid) RETURNS text
  LANGUAGE sql STABLE
  AS $fn$
    SELECT m.role FROM access.project_members m JOIN access.projects p ON p.id = m.project_id
    WHERE m.project_id = p_project_id AND m.user_id = p_user_id AND p.deleted_at IS NULL
  $fn$;
CREATE FUNCTION access.ssh_public_keys_of(p_user_id uuid, p_key_ids uuid[]) RETURNS TABLE (id uuid, public_key text, fingerprint text)
  LANGUAGE sql STABLE
  AS $fn$
    SELECT k.id, k.public_key, k.fingerprint FROM access.ssh_keys k WHERE k.user_id = p_user_id AND k.id = ANY (p_key_ids)
  $fn$;
`);
  }
}
