export { createGateway, type GatewayDeps } from './server.js';
export { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, DEFAULT_MAX_QUERY_COST, JWKS_PATH, loadGatewayConfig, type GatewayConfig } from './config.js';
export { apiSchemaSdl, composeSupergraph, CompositionError, placeholderUrl, type SubgraphDefinition } from './compose.js';
export { depthLimitRule } from './depth-limit.js';
export { DEFAULT_LIST_SIZE, operationCost, queryCostPlugin } from './query-cost.js';
export { createClientIpResolver, normalizeAddress, parseTrustedProxies, type ClientIpResolver } from './client-ip.js';
export { createCallerAuthenticator, type CallerAuthenticator } from './caller-identity.js';
export { SubgraphDataSource, type GatewayContext } from './subgraph-data-source.js';
export { loadSupergraphSdl, subgraphNames, supergraphPath, type SubgraphName } from './supergraph.js';
export {
  createGatewayEngine,
  refusalBody,
  type GatewayAnswer,
  type GatewayCaller,
  type GatewayEngine,
  type GatewayEngineDeps,
  type GatewayOperation,
  type GatewayResultBody,
} from './engine.js';
