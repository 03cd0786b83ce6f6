export { createAgent, type Agent } from './agent.js';
export { agentUsage, loadAgentConfig, parseAgentArgs, type AgentConfig } from './config.js';
export { driverKinds, type DriverKind, type GpuDriver, type NodeInventory, type DiscoveredGpu, type ProvisionRequest, type ProvisionResult, type ReleaseRequest } from './drivers/driver.js';
