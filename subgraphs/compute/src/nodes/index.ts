export * from './admin-nodes.js';
export * from './agent-session.js';
export * from './monitor.js';
export * from './node-views.js';
export * from './offline.js';
export * from './task-results.js';
export * from './tasks.js';
export * from './topology.js';
export { sha256Hex } from './tokens.js';

export { toComputeNode, type ComputeNodeParent } from './graphql-mapping.js';
