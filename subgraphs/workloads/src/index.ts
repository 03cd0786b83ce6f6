export { createWorkloadsSubgraph } from './server.js';
export { loadWorkloadsConfig, type WorkloadsConfig } from './config.js';
export { loadTypeDefs, typeDefsPath } from './schema.js';
