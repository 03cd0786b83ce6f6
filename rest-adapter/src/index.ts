export { createRestAdapter, type RestAdapter, type RestAdapterDeps } from './server.js';
export { loadRestAdapterConfig, defaultRestAdapterConfig, restAdapterEnv, type GatewayMode, type RestAdapterConfig } from './config.js';
export { loadContract, listOperations, defaultOpenApiPath, type Contract, type ContractOperation } from './contract/load-contract.js';
export {
  createOperationRegistry,
  defaultOperationRegistry,
  type OperationContext,
  type OperationHandler,
  type OperationHandlers,
  type OperationId,
  type OperationRegistry,
  type OperationResult,
} from './operations/registry.js';
export { toCamelCase, toSnakeCase, camelKey, snakeKey } from './case-mapping.js';
export { createGatewayClient, type ForwardedRequest, type GatewayClient, type GraphqlRequest } from './gateway-client.js';
export { createEmbeddedGatewayClient } from './embedded-gateway-client.js';
export { isGraphqlHandler, type GraphqlHandler } from './operations/graphql-operation.js';
