import { Migration } from '@gpuaas/db';

/**
 * The initial platform schema. The SQL is the `-- schema: platform` section of doc/architecture/db_schema.sql,
 * verbatim; the schema_drift gate fails when the two disagree. Later changes are new migrations, never edits here.
 */
export class Migration0001PlatformInitial extends Migration {
  override up(): void {
    this.addSql(`CREATE SCHEMA IF NOT EXISTS platform;

CREATE TABLE platform.os_images (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  version text NOT NULL,
  family text NOT NULL CONSTRAINT os_images_family_check CHECK (family ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  image_ref text NOT NULL,
  cuda_version text,
  driver_version text,
  status text NOT NULL DEFAULT 'active' CONSTRAINT os_images_status_check CHECK (status IN ('active', 'deprecated', 'deleted')),
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT os_images_name_version_key UNIQUE (name, version),
  CONSTRAINT os_images_default_active_check CHECK (NOT is_default OR status = 'active')
);
-- At most one default image; switching the default clears the old one first, in one transaction.
CREATE UNIQUE INDEX os_images_one_default_key ON platform.os_images ((true)) WHERE is_default;
CREATE INDEX os_images_status_idx ON platform.os_images (status, name, version);

CREATE TABLE platform.runbooks (
  id uuid PRIMARY KEY,
  slug text NOT NULL CONSTRAINT runbooks_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  title text NOT NULL,
  body_markdown text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT runbooks_slug_key UNIQUE (slug)
);
COMMENT ON COLUMN platform.runbooks.created_by IS 'access ref (users.id).';
CREATE INDEX runbooks_tags_idx ON platform.runbooks USING gin (tags);
CREATE INDEX runbooks_updated_idx ON platform.runbooks (updated_at DESC, id DESC);

CREATE TABLE platform.notifications (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  kind text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  event_id uuid NOT NULL,
  read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Keyed by the source event (and the recipient, since one event may notify several project members): a
  -- redelivered event cannot notify twice.
  CONSTRAINT notifications_event_user_key UNIQUE (event_id, user_id)
);
COMMENT ON COLUMN platform.notifications.user_id IS 'access ref (users.id) of the recipient.';
CREATE INDEX notifications_user_created_idx ON platform.notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_user_unread_idx ON platform.notifications (user_id, created_at DESC) WHERE read_at IS NULL;
`);
  }
}
