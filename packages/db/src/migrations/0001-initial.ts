import { Migration } from '@mikro-orm/migrations';

/**
 * The initial infra schema. The SQL is the `-- schema: infra` section of doc/architecture/db_schema.sql,
 * verbatim; the schema_drift gate fails when the two disagree. Later changes are new migrations, never edits here.
 */
export class Migration0001InfraInitial extends Migration {
  override up(): void {
    this.addSql(`CREATE SCHEMA IF NOT EXISTS infra;

-- The transactional outbox: a domain change and its event commit together; the relay publishes unpublished rows
-- with Nats-Msg-Id = event_id, so a crash between publish and mark only ever produces a duplicate JetStream drops.
CREATE TABLE infra.outbox (
  event_id uuid PRIMARY KEY,
  subject text NOT NULL,
  envelope jsonb NOT NULL,
  correlation_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  publish_attempts integer NOT NULL DEFAULT 0,
  last_error text
);
CREATE INDEX outbox_unpublished_idx ON infra.outbox (created_at) WHERE published_at IS NULL;
-- Serves the retention job that deletes published rows after a grace period.
CREATE INDEX outbox_published_at_idx ON infra.outbox (published_at) WHERE published_at IS NOT NULL;

CREATE FUNCTION infra.outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('infra_outbox', '');
  RETURN NULL;
END;
$$;
-- Statement level: one wake-up per committing statement, delivered at commit, however many events it inserted.
CREATE TRIGGER outbox_notify AFTER INSERT ON infra.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION infra.outbox_notify();
COMMENT ON TABLE infra.outbox IS 'Transactional outbox. Rows are written in the same transaction as the domain change; the relay is woken by NOTIFY infra_outbox and also sweeps on a timer, so a lost notification only delays.';

CREATE TABLE infra.audit_logs (
  id uuid PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  domain text NOT NULL CONSTRAINT audit_logs_domain_check
    CHECK (domain IN ('access', 'compute', 'billing', 'workloads', 'platform')),
  actor_kind text NOT NULL CONSTRAINT audit_logs_actor_kind_check
    CHECK (actor_kind IN ('user', 'admin', 'system', 'node')),
  actor_id uuid,
  action text NOT NULL CONSTRAINT audit_logs_action_check CHECK (action ~ '^[a-z][a-z0-9_]*([.][a-z][a-z0-9_]*)+$'),
  target_type text NOT NULL,
  target_id text,
  correlation_id text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT audit_logs_actor_check CHECK (actor_kind = 'system' OR actor_id IS NOT NULL),
  CONSTRAINT audit_logs_details_check CHECK (jsonb_typeof(details) = 'object')
);
COMMENT ON TABLE infra.audit_logs IS 'Append-only record of privileged mutations, written by the acting domain in its own transaction. UPDATE, DELETE and TRUNCATE are refused by trigger.';
COMMENT ON COLUMN infra.audit_logs.actor_id IS 'access ref (users.id) for user/admin actors, compute ref (nodes.id) for node actors, NULL for system.';
CREATE INDEX audit_logs_occurred_idx ON infra.audit_logs (occurred_at DESC, id DESC);
CREATE INDEX audit_logs_actor_idx ON infra.audit_logs (actor_id, occurred_at DESC, id DESC) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_logs_target_idx ON infra.audit_logs (target_type, target_id, occurred_at DESC, id DESC);
CREATE INDEX audit_logs_action_idx ON infra.audit_logs (action, occurred_at DESC, id DESC);
CREATE INDEX audit_logs_domain_idx ON infra.audit_logs (domain, occurred_at DESC, id DESC);
CREATE INDEX audit_logs_correlation_idx ON infra.audit_logs (correlation_id) WHERE correlation_id IS NOT NULL;

CREATE FUNCTION infra.audit_logs_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'infra.audit_logs is append-only: % refused', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER audit_logs_no_update_delete BEFORE UPDATE OR DELETE ON infra.audit_logs
  FOR EACH ROW EXECUTE FUNCTION infra.audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON infra.audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION infra.audit_logs_append_only();

-- Consumer-side dedupe: a consumer inserts (consumer, event_id) in the transaction that applies the event, so a
-- redelivered event conflicts on the primary key and is acked without running twice.
CREATE TABLE infra.processed_events (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_processed_at_idx ON infra.processed_events (processed_at);

-- Durable fallback for X-Idempotency-Key (the hot path lives in Redis): scope is e.g. "<user id>:<operation>".
CREATE TABLE infra.idempotency_records (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  state text NOT NULL CONSTRAINT idempotency_records_state_check CHECK (state IN ('in_progress', 'completed')),
  response_status integer CONSTRAINT idempotency_records_status_check CHECK (response_status BETWEEN 100 AND 599),
  response_body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key),
  CONSTRAINT idempotency_records_completed_check CHECK (state = 'in_progress' OR response_status IS NOT NULL),
  CONSTRAINT idempotency_records_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX idempotency_records_expires_idx ON infra.idempotency_records (expires_at);
`);
  }
}
