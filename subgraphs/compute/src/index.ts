export { createComputeSubgraph } from './server.js';
export { loadComputeConfig, type ComputeConfig } from './config.js';
export { loadTypeDefs, typeDefsPath } from './schema.js';
