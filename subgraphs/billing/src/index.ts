export { createBillingSubgraph } from './server.js';
export { loadBillingConfig, type BillingConfig } from './config.js';
export { loadTypeDefs, typeDefsPath } from './schema.js';
