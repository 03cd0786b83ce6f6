export { createComputeSubgraph } from './server.js';
export { loadComputeConfig, type ComputeConfig } from './config.js';
export { loadTypeDefs, subgraphDir } from './schema.js';
