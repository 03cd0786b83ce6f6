export { createAgent, type Agent, type AgentOptions, type AgentStatus } from './agent.js';
export { agentUsage, loadAgentConfig, parseAgentArgs, type AgentConfig } from './config.js';
export { AGENT_VERSION } from './version.js';
export { readAgentState, type AgentState } from './state-file.js';
export { TaskHandlerRegistry, type TaskContext, type TaskHandler, type TaskKind } from './task-handlers.js';
export type { AgentTask } from './control-plane/client.js';
export {
  driverKinds,
  DriverError,
  type DriverKind,
  type GpuDriver,
  type DiscoveredGpu,
  type MigInstance,
  type MigMode,
  type ProvisionRequest,
  type ProvisionResult,
  type ReleaseRequest,
  type DeviceSample,
  type RunningAllocation,
} from './drivers/driver.js';
export { createDriver } from './drivers/create-driver.js';
export { createSimulatedDriver, type SimulatedDriverOptions } from './drivers/simulated/simulated-driver.js';
export { defaultSimulatedLayout, type SimulatedLayout } from './drivers/simulated/layout.js';
export { createNvidiaDriver, type CommandRunner, type NvidiaDriverOptions } from './drivers/nvidia/nvidia-driver.js';
export { parseSmiLog, type SmiGpu, type SmiLog, type SmiMigDevice } from './drivers/nvidia/smi-xml.js';
export { parseGpuInstances, parseGpuList } from './drivers/nvidia/listings.js';
