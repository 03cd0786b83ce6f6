export { createBillingSubgraph } from './server.js';
export { loadBillingConfig, type BillingConfig } from './config.js';
export { loadTypeDefs, subgraphDir } from './schema.js';
