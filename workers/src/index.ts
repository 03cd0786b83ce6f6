export { createWorkers, type Workers } from './server.js';
export { loadWorkersConfig, workerRoles, type WorkerRole, type WorkersConfig } from './config.js';
export { roleStarters, type RoleContext, type RunningRole, type StartRole } from './roles/index.js';
export { DLQ_DURABLE } from './roles/dlq-handler.js';
