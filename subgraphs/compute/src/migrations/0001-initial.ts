import { Migration } from '@gpuaas/db';

/**
 * The initial compute schema. The SQL is the `-- schema: compute` section of doc/architecture/db_schema.sql,
 * verbatim; the schema_drift gate fails when the two disagree. Later changes are new migrations, never edits here.
 */
export class Migration0001ComputeInitial extends Migration {
  override up(): void {
    this.addSql(`CREATE SCHEMA IF NOT EXISTS compute;

CREATE TABLE compute.regions (
  id uuid PRIMARY KEY,
  code text NOT NULL CONSTRAINT regions_code_check CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name text NOT NULL,
  status text NOT NULL DEFAULT 'active' CONSTRAINT regions_status_check CHECK (status IN ('active', 'disabled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT regions_code_key UNIQUE (code)
);

CREATE TABLE compute.gpu_models (
  id uuid PRIMARY KEY,
  code text NOT NULL CONSTRAINT gpu_models_code_check CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name text NOT NULL,
  vendor text NOT NULL DEFAULT 'nvidia',
  memory_bytes bigint NOT NULL CONSTRAINT gpu_models_memory_check CHECK (memory_bytes > 0),
  mig_capable boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT gpu_models_code_key UNIQUE (code)
);

-- What is sold: a whole card ("whole") or a MIG profile such as "1g.10gb"; compute_sevenths is the profile's share
-- of the card's streaming multiprocessors (MIG cuts compute in sevenths; a whole card is 7).
CREATE TABLE compute.slice_profiles (
  id uuid PRIMARY KEY,
  gpu_model_id uuid NOT NULL REFERENCES compute.gpu_models (id),
  name text NOT NULL CONSTRAINT slice_profiles_name_check CHECK (name = 'whole' OR name ~ '^[1-7]g[.][0-9]+gb(([+][a-z]+)|([.][a-z0-9]+))*$'),
  memory_bytes bigint NOT NULL CONSTRAINT slice_profiles_memory_check CHECK (memory_bytes > 0),
  compute_sevenths smallint NOT NULL CONSTRAINT slice_profiles_compute_check CHECK (compute_sevenths BETWEEN 1 AND 7),
  sellable boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT slice_profiles_model_name_key UNIQUE (gpu_model_id, name)
);

-- Prices are versioned, never updated: the price in force is the latest effective_from <= now(). Allocations
-- freeze the price they were requested at.
CREATE TABLE compute.prices (
  id uuid PRIMARY KEY,
  profile_id uuid NOT NULL REFERENCES compute.slice_profiles (id),
  region_id uuid NOT NULL REFERENCES compute.regions (id),
  hourly_amount_minor bigint NOT NULL CONSTRAINT prices_amount_check CHECK (hourly_amount_minor >= 0),
  currency char(3) NOT NULL CONSTRAINT prices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  effective_from timestamptz NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT prices_profile_region_effective_key UNIQUE (profile_id, region_id, effective_from)
);
COMMENT ON COLUMN compute.prices.created_by IS 'access ref (users.id) of the admin who set the price.';
CREATE INDEX prices_region_idx ON compute.prices (region_id);

CREATE TABLE compute.nodes (
  id uuid PRIMARY KEY,
  hostname text NOT NULL,
  region_id uuid NOT NULL REFERENCES compute.regions (id),
  state text NOT NULL DEFAULT 'pending' CONSTRAINT nodes_state_check
    CHECK (state IN ('pending', 'active', 'cordoned', 'draining', 'offline', 'retired')),
  state_reason text,
  bootstrap_token_hash text,
  bootstrap_token_expires_at timestamptz,
  bootstrap_token_used_at timestamptz,
  credential_hash text,
  credential_issued_at timestamptz,
  credential_revoked_at timestamptz,
  agent_version text,
  driver text CONSTRAINT nodes_driver_check CHECK (driver IN ('simulated', 'nvidia')),
  driver_version text,
  cuda_version text,
  last_heartbeat_at timestamptz,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz,
  CONSTRAINT nodes_bootstrap_token_hash_key UNIQUE (bootstrap_token_hash),
  CONSTRAINT nodes_credential_hash_key UNIQUE (credential_hash),
  CONSTRAINT nodes_bootstrap_check CHECK ((bootstrap_token_hash IS NULL) = (bootstrap_token_expires_at IS NULL)),
  CONSTRAINT nodes_labels_check CHECK (jsonb_typeof(labels) = 'object'),
  CONSTRAINT nodes_retired_check CHECK ((state = 'retired') = (retired_at IS NOT NULL))
);
COMMENT ON COLUMN compute.nodes.bootstrap_token_hash IS 'One-time registration token (SHA-256): exchanged once, before expiry, for the node credential; bootstrap_token_used_at marks the exchange.';
COMMENT ON COLUMN compute.nodes.credential_hash IS 'SHA-256 of the long-lived agent credential; revoking sets credential_revoked_at and the agent must re-bootstrap.';
-- A hostname may be reused only after the old node is retired.
CREATE UNIQUE INDEX nodes_hostname_live_key ON compute.nodes (hostname) WHERE state <> 'retired';
CREATE INDEX nodes_region_state_idx ON compute.nodes (region_id, state);
CREATE INDEX nodes_created_idx ON compute.nodes (created_at, id);
-- The offline detector scans nodes that should be heartbeating.
CREATE INDEX nodes_heartbeat_idx ON compute.nodes (last_heartbeat_at) WHERE state IN ('active', 'cordoned', 'draining');

CREATE TABLE compute.node_gpus (
  id uuid PRIMARY KEY,
  node_id uuid NOT NULL REFERENCES compute.nodes (id) ON DELETE CASCADE,
  device_index smallint NOT NULL CONSTRAINT node_gpus_device_index_check CHECK (device_index >= 0),
  gpu_uuid text NOT NULL,
  gpu_model_id uuid REFERENCES compute.gpu_models (id),
  model text NOT NULL,
  memory_bytes bigint NOT NULL CONSTRAINT node_gpus_memory_check CHECK (memory_bytes > 0),
  mig_mode text NOT NULL CONSTRAINT node_gpus_mig_mode_check CHECK (mig_mode IN ('disabled', 'enabled', 'unsupported')),
  discovered_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT node_gpus_gpu_uuid_key UNIQUE (gpu_uuid),
  CONSTRAINT node_gpus_node_device_key UNIQUE (node_id, device_index)
);
COMMENT ON COLUMN compute.node_gpus.gpu_model_id IS 'Catalog model the reported model name matched; NULL while an operator has not mapped it (its slots are then not sellable).';
CREATE INDEX node_gpus_model_idx ON compute.node_gpus (gpu_model_id);

-- The bookable units of a GPU as discovered on the node: one "whole" slot for a card without MIG, or one slot per
-- MIG GPU instance. Slots of one GPU do not overlap (they mirror GPU instances that exist), so a slot is the unit
-- of booking; whether it is taken is decided by allocations (see allocations_slot_live_key), not by this row.
CREATE TABLE compute.slots (
  id uuid PRIMARY KEY,
  node_id uuid NOT NULL REFERENCES compute.nodes (id) ON DELETE CASCADE,
  node_gpu_id uuid NOT NULL REFERENCES compute.node_gpus (id) ON DELETE CASCADE,
  profile_id uuid NOT NULL REFERENCES compute.slice_profiles (id),
  placement_start smallint NOT NULL CONSTRAINT slots_placement_start_check CHECK (placement_start >= 0),
  placement_size smallint NOT NULL CONSTRAINT slots_placement_size_check CHECK (placement_size > 0),
  gpu_instance_id integer,
  compute_instance_id integer,
  state text NOT NULL DEFAULT 'free' CONSTRAINT slots_state_check CHECK (state IN ('free', 'disabled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT slots_gpu_placement_key UNIQUE (node_gpu_id, placement_start),
  CONSTRAINT slots_compute_instance_check CHECK (compute_instance_id IS NULL OR gpu_instance_id IS NOT NULL)
);
CREATE UNIQUE INDEX slots_gpu_instance_key ON compute.slots (node_gpu_id, gpu_instance_id) WHERE gpu_instance_id IS NOT NULL;
-- Placement looks for free slots of a profile on active nodes.
CREATE INDEX slots_profile_free_idx ON compute.slots (profile_id, node_id) WHERE state = 'free';
CREATE INDEX slots_node_idx ON compute.slots (node_id);

CREATE TABLE compute.allocations (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL,
  user_id uuid NOT NULL,
  name text NOT NULL CONSTRAINT allocations_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
  profile_id uuid NOT NULL REFERENCES compute.slice_profiles (id),
  region_id uuid NOT NULL REFERENCES compute.regions (id),
  os_image_id uuid NOT NULL,
  ssh_key_ids uuid[] NOT NULL DEFAULT '{}',
  node_id uuid REFERENCES compute.nodes (id),
  slot_id uuid REFERENCES compute.slots (id),
  state text NOT NULL DEFAULT 'requested' CONSTRAINT allocations_state_check
    CHECK (state IN ('requested', 'provisioning', 'active', 'releasing', 'released', 'failed', 'lost')),
  state_reason text,
  hourly_amount_minor bigint NOT NULL CONSTRAINT allocations_amount_check CHECK (hourly_amount_minor >= 0),
  currency char(3) NOT NULL CONSTRAINT allocations_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  idempotency_key text,
  requested_at timestamptz NOT NULL DEFAULT now(),
  provisioning_at timestamptz,
  active_at timestamptz,
  releasing_at timestamptz,
  released_at timestamptz,
  failed_at timestamptz,
  lost_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT allocations_user_idempotency_key UNIQUE (user_id, idempotency_key),
  CONSTRAINT allocations_placement_pair_check CHECK ((slot_id IS NULL) = (node_id IS NULL)),
  CONSTRAINT allocations_placed_check CHECK (state NOT IN ('provisioning', 'active', 'releasing') OR slot_id IS NOT NULL),
  CONSTRAINT allocations_active_at_check CHECK (state <> 'active' OR active_at IS NOT NULL),
  CONSTRAINT allocations_released_at_check CHECK (state <> 'released' OR released_at IS NOT NULL),
  CONSTRAINT allocations_failed_at_check CHECK (state <> 'failed' OR failed_at IS NOT NULL),
  CONSTRAINT allocations_lost_at_check CHECK (state <> 'lost' OR lost_at IS NOT NULL)
);
COMMENT ON COLUMN compute.allocations.project_id IS 'access ref (projects.id); the tenant every query is scoped by.';
COMMENT ON COLUMN compute.allocations.user_id IS 'access ref (users.id) of the requester; billed wallet owner.';
COMMENT ON COLUMN compute.allocations.os_image_id IS 'platform ref (os_images.id).';
COMMENT ON COLUMN compute.allocations.ssh_key_ids IS 'access refs (ssh_keys.id) installed on the guest at provisioning.';
COMMENT ON COLUMN compute.allocations.hourly_amount_minor IS 'Price frozen when requested; metering bills this, not the current price.';
COMMENT ON COLUMN compute.allocations.version IS 'Bumped on every state change; writers compare-and-set it so a late event cannot overwrite a newer state.';
-- The double-booking guard: no slot is held by two live allocations, whatever the placement code does under
-- concurrency. released/failed/lost rows keep their slot_id as history and drop out of the index.
CREATE UNIQUE INDEX allocations_slot_live_key ON compute.allocations (slot_id)
  WHERE state IN ('requested', 'provisioning', 'active', 'releasing');
CREATE INDEX allocations_project_created_idx ON compute.allocations (project_id, created_at DESC, id DESC);
CREATE INDEX allocations_user_created_idx ON compute.allocations (user_id, created_at DESC, id DESC);
CREATE INDEX allocations_created_idx ON compute.allocations (created_at DESC, id DESC);
-- Workers sweep allocations stuck in a transitional state.
CREATE INDEX allocations_transitional_idx ON compute.allocations (state, updated_at)
  WHERE state IN ('requested', 'provisioning', 'releasing');
CREATE INDEX allocations_node_live_idx ON compute.allocations (node_id)
  WHERE state IN ('requested', 'provisioning', 'active', 'releasing');

CREATE TABLE compute.allocation_transitions (
  id uuid PRIMARY KEY,
  allocation_id uuid NOT NULL REFERENCES compute.allocations (id) ON DELETE CASCADE,
  from_state text CONSTRAINT allocation_transitions_from_check
    CHECK (from_state IN ('requested', 'provisioning', 'active', 'releasing', 'released', 'failed', 'lost')),
  to_state text NOT NULL CONSTRAINT allocation_transitions_to_check
    CHECK (to_state IN ('requested', 'provisioning', 'active', 'releasing', 'released', 'failed', 'lost')),
  reason text,
  correlation_id text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX allocation_transitions_allocation_idx ON compute.allocation_transitions (allocation_id, at, id);

-- The per-node work queue the agent long-polls. A claim sets state = 'leased', bumps fencing_token and sets
-- lease_expires_at; a result is accepted only with the current fencing token, so a task re-leased after its lease
-- ran out cannot be completed by the agent that lost it.
CREATE TABLE compute.node_tasks (
  id uuid PRIMARY KEY,
  node_id uuid NOT NULL REFERENCES compute.nodes (id) ON DELETE CASCADE,
  kind text NOT NULL CONSTRAINT node_tasks_kind_check CHECK (kind IN (
    'provision', 'release', 'discover_topology', 'configure_slices', 'open_terminal',
    'attach_volume', 'detach_volume', 'start_app', 'stop_app')),
  allocation_id uuid REFERENCES compute.allocations (id),
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  state text NOT NULL DEFAULT 'queued' CONSTRAINT node_tasks_state_check
    CHECK (state IN ('queued', 'leased', 'succeeded', 'failed', 'cancelled')),
  fencing_token bigint NOT NULL DEFAULT 0,
  leased_at timestamptz,
  lease_expires_at timestamptz,
  attempts integer NOT NULL DEFAULT 0 CONSTRAINT node_tasks_attempts_check CHECK (attempts >= 0),
  result jsonb,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  CONSTRAINT node_tasks_lease_check CHECK (state <> 'leased' OR lease_expires_at IS NOT NULL),
  CONSTRAINT node_tasks_completed_check
    CHECK ((state IN ('succeeded', 'failed', 'cancelled')) = (completed_at IS NOT NULL))
);
-- Claim path: WHERE node_id = $1 AND (state = 'queued' OR (state = 'leased' AND lease_expires_at < now()))
-- ORDER BY created_at, id FOR UPDATE SKIP LOCKED.
CREATE INDEX node_tasks_claimable_idx ON compute.node_tasks (node_id, created_at, id) WHERE state IN ('queued', 'leased');
-- At most one open task of a kind per allocation, so a retried worker cannot queue a second provision.
CREATE UNIQUE INDEX node_tasks_open_per_allocation_key ON compute.node_tasks (allocation_id, kind)
  WHERE allocation_id IS NOT NULL AND state IN ('queued', 'leased');
CREATE INDEX node_tasks_allocation_idx ON compute.node_tasks (allocation_id, created_at) WHERE allocation_id IS NOT NULL;

CREATE TABLE compute.terminal_sessions (
  id uuid PRIMARY KEY,
  allocation_id uuid NOT NULL REFERENCES compute.allocations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  closed_at timestamptz,
  CONSTRAINT terminal_sessions_token_hash_key UNIQUE (token_hash),
  CONSTRAINT terminal_sessions_expiry_check CHECK (expires_at > created_at)
);
COMMENT ON COLUMN compute.terminal_sessions.user_id IS 'access ref (users.id).';
COMMENT ON COLUMN compute.terminal_sessions.token_hash IS 'SHA-256 of the one-use terminal token; used_at is set atomically on first use.';
CREATE INDEX terminal_sessions_allocation_idx ON compute.terminal_sessions (allocation_id, created_at);

-- High-volume samples pushed by agents: a bigint identity key (not uuid) keeps rows and indexes small.
-- Retention is by time: the workers' telemetry retention job deletes rows older than the configured window in
-- batches, walking the BRIN index on sampled_at. Daily partitions are the next step if deletes become costly.
CREATE TABLE compute.guest_telemetry (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id uuid NOT NULL REFERENCES compute.nodes (id) ON DELETE CASCADE,
  allocation_id uuid REFERENCES compute.allocations (id) ON DELETE CASCADE,
  gpu_uuid text NOT NULL,
  slot_id uuid REFERENCES compute.slots (id) ON DELETE CASCADE,
  sampled_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  gpu_utilization_percent smallint NOT NULL CONSTRAINT guest_telemetry_utilization_check
    CHECK (gpu_utilization_percent BETWEEN 0 AND 100),
  memory_used_bytes bigint NOT NULL CONSTRAINT guest_telemetry_memory_used_check CHECK (memory_used_bytes >= 0),
  memory_total_bytes bigint NOT NULL CONSTRAINT guest_telemetry_memory_total_check CHECK (memory_total_bytes > 0),
  temperature_celsius smallint,
  power_milliwatts integer CONSTRAINT guest_telemetry_power_check CHECK (power_milliwatts >= 0),
  CONSTRAINT guest_telemetry_memory_check CHECK (memory_used_bytes <= memory_total_bytes)
);
-- An agent retrying a batch must not double-count: one sample per GPU (or slice) per instant.
CREATE UNIQUE INDEX guest_telemetry_sample_key ON compute.guest_telemetry (gpu_uuid, slot_id, sampled_at) NULLS NOT DISTINCT;
CREATE INDEX guest_telemetry_allocation_idx ON compute.guest_telemetry (allocation_id, sampled_at) WHERE allocation_id IS NOT NULL;
CREATE INDEX guest_telemetry_node_idx ON compute.guest_telemetry (node_id, sampled_at);
CREATE INDEX guest_telemetry_sampled_brin ON compute.guest_telemetry USING brin (sampled_at);
`);
  }
}
