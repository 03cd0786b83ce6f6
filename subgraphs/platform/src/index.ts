export { createPlatformSubgraph } from './server.js';
export { loadPlatformConfig, type PlatformConfig } from './config.js';
export { loadTypeDefs, typeDefsPath } from './schema.js';
