import { Migration } from '@gpuaas/db';

/**
 * What the REST contract needs beyond 0001: `last_login_at` (AdminUser.last_login_at), `password_set_at` (the
 * password login method's `linked_at`), and an optional slug (Project.slug is null when none was chosen and always
 * null for personal projects). doc/architecture/db_schema.sql's access section carries the same end state.
 */
export class Migration0002AccessLoginTrackingAndOptionalSlugs extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE access.users ADD COLUMN last_login_at timestamptz;
ALTER TABLE access.users ADD COLUMN password_set_at timestamptz;
COMMENT ON COLUMN access.users.last_login_at IS 'Last successful login (password or OIDC) or token refresh.';
COMMENT ON COLUMN access.users.password_set_at IS 'When the user first got a password: the linked_at of the password login method.';
UPDATE access.users SET password_set_at = created_at WHERE password_hash IS NOT NULL;

ALTER TABLE access.projects ALTER COLUMN slug DROP NOT NULL;
UPDATE access.projects SET slug = NULL WHERE personal;
ALTER TABLE access.projects ADD CONSTRAINT projects_personal_slug_check CHECK (NOT personal OR slug IS NULL);
`);
  }
}
