export { createAccessSubgraph, JWKS_PATH } from './server.js';
export { loadAccessConfig, type AccessConfig, type AccessPolicies } from './config.js';
export { loadTypeDefs, typeDefsPath } from './schema.js';
