export { createComputeSubgraph } from './server.js';
export { loadComputeConfig, type ComputeConfig } from './config.js';
export { loadTypeDefs, subgraphDir } from './schema.js';
export {
  handleProvisioningEvent,
  provisioningSubjects,
  PROVISIONING_CONSUMER,
  type ProvisioningDeps,
  type ProvisioningResult,
} from './allocations/provisioning.js';
export { applyTaskOutcome, type AllocationTask, type TaskOutcome, type AppliedOutcome } from './allocations/task-outcomes.js';
