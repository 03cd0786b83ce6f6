import { Migration } from '@gpuaas/db';

/**
 * The initial workloads schema. The SQL is the `-- schema: workloads` section of doc/architecture/db_schema.sql,
 * verbatim; the schema_drift gate fails when the two disagree. Later changes are new migrations, never edits here.
 */
export class Migration0001WorkloadsInitial extends Migration {
  override up(): void {
    this.addSql(`CREATE SCHEMA IF NOT EXISTS workloads;

CREATE TABLE workloads.volumes (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL,
  name text NOT NULL CONSTRAINT volumes_name_check CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  size_gib integer NOT NULL CONSTRAINT volumes_size_check CHECK (size_gib BETWEEN 1 AND 65536),
  region_id uuid NOT NULL,
  state text NOT NULL DEFAULT 'creating' CONSTRAINT volumes_state_check CHECK (state IN (
    'creating', 'available', 'attaching', 'attached', 'detaching', 'deleting', 'deleted', 'failed')),
  state_reason text,
  attached_allocation_id uuid,
  mount_path text CONSTRAINT volumes_mount_path_check CHECK (mount_path ~ '^/[A-Za-z0-9._/-]*$'),
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT volumes_attachment_check
    CHECK ((state IN ('attaching', 'attached', 'detaching')) = (attached_allocation_id IS NOT NULL)),
  CONSTRAINT volumes_mount_check CHECK (attached_allocation_id IS NULL OR mount_path IS NOT NULL),
  CONSTRAINT volumes_deleted_check CHECK ((state = 'deleted') = (deleted_at IS NOT NULL))
);
COMMENT ON COLUMN workloads.volumes.project_id IS 'access ref (projects.id).';
COMMENT ON COLUMN workloads.volumes.region_id IS 'compute ref (regions.id); a volume attaches only to allocations in its region.';
COMMENT ON COLUMN workloads.volumes.attached_allocation_id IS 'compute ref (allocations.id).';
COMMENT ON COLUMN workloads.volumes.created_by IS 'access ref (users.id).';
CREATE UNIQUE INDEX volumes_project_name_key ON workloads.volumes (project_id, name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX volumes_allocation_mount_key ON workloads.volumes (attached_allocation_id, mount_path)
  WHERE attached_allocation_id IS NOT NULL;
CREATE INDEX volumes_project_created_idx ON workloads.volumes (project_id, created_at DESC, id DESC);

CREATE TABLE workloads.app_templates (
  id uuid PRIMARY KEY,
  slug text NOT NULL CONSTRAINT app_templates_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  image text NOT NULL,
  ports jsonb NOT NULL DEFAULT '[]'::jsonb,
  min_gpu_memory_bytes bigint NOT NULL DEFAULT 0 CONSTRAINT app_templates_min_memory_check CHECK (min_gpu_memory_bytes >= 0),
  env_schema jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'active' CONSTRAINT app_templates_status_check CHECK (status IN ('active', 'hidden')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT app_templates_slug_key UNIQUE (slug),
  CONSTRAINT app_templates_ports_check CHECK (jsonb_typeof(ports) = 'array'),
  CONSTRAINT app_templates_env_schema_check CHECK (jsonb_typeof(env_schema) = 'object')
);
COMMENT ON COLUMN workloads.app_templates.env_schema IS 'JSON Schema that app_instances.env is validated against before launch.';

CREATE TABLE workloads.app_instances (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL,
  template_id uuid NOT NULL REFERENCES workloads.app_templates (id),
  allocation_id uuid NOT NULL,
  env jsonb NOT NULL DEFAULT '{}'::jsonb,
  state text NOT NULL DEFAULT 'pending' CONSTRAINT app_instances_state_check
    CHECK (state IN ('pending', 'starting', 'running', 'stopping', 'stopped', 'failed')),
  state_reason text,
  endpoints jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz,
  CONSTRAINT app_instances_env_check CHECK (jsonb_typeof(env) = 'object'),
  CONSTRAINT app_instances_endpoints_check CHECK (jsonb_typeof(endpoints) = 'array')
);
COMMENT ON COLUMN workloads.app_instances.project_id IS 'access ref (projects.id).';
COMMENT ON COLUMN workloads.app_instances.allocation_id IS 'compute ref (allocations.id) the app runs on.';
COMMENT ON COLUMN workloads.app_instances.created_by IS 'access ref (users.id).';
COMMENT ON COLUMN workloads.app_instances.env IS 'Validated against the template env_schema; secrets are not stored here.';
CREATE INDEX app_instances_project_created_idx ON workloads.app_instances (project_id, created_at DESC, id DESC);
CREATE INDEX app_instances_allocation_idx ON workloads.app_instances (allocation_id)
  WHERE state IN ('pending', 'starting', 'running', 'stopping');
CREATE INDEX app_instances_template_idx ON workloads.app_instances (template_id);
`);
  }
}
