export { createGateway } from './server.js';
export { loadGatewayConfig, type GatewayConfig } from './config.js';
export { apiSchemaSdl, composeSupergraph, CompositionError, placeholderUrl, type SubgraphDefinition } from './compose.js';
export { depthLimitRule } from './depth-limit.js';
export { SubgraphDataSource, type GatewayContext } from './subgraph-data-source.js';
export { loadSupergraphSdl, subgraphNames, supergraphPath, type SubgraphName } from './supergraph.js';
