import { Migration } from '@gpuaas/db';

/**
 * What node registration, offline recovery and slice topology need beyond the initial schema.
 * doc/architecture/db_schema.sql's compute section carries the same statements.
 */
export class Migration0003ComputeNodeLifecycle extends Migration {
  override up(): void {
    this.addSql(`-- registered_at: first successful registration; state_before_offline: the operator-set state an offline node returns
-- to on its next heartbeat; topology_discovered_at: when the agent last reported its slice topology.
ALTER TABLE compute.nodes
  ADD COLUMN registered_at timestamptz,
  ADD COLUMN state_before_offline text CONSTRAINT nodes_state_before_offline_check
    CHECK (state_before_offline IN ('active', 'cordoned', 'draining')),
  ADD COLUMN topology_discovered_at timestamptz,
  ADD CONSTRAINT nodes_offline_check CHECK ((state = 'offline') = (state_before_offline IS NOT NULL));
-- The MIG device UUID of a slot's instance (null for a whole card): the agent addresses slices by it.
ALTER TABLE compute.slots ADD COLUMN mig_uuid text;
`);
  }
}
