export { createAccessSubgraph } from './server.js';
export { loadAccessConfig, type AccessConfig } from './config.js';
export { loadTypeDefs, typeDefsPath } from './schema.js';
