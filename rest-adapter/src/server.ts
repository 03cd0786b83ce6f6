import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger, type Logger } from '@gpuaas/telemetry';
import type { RestAdapterConfig } from './config.js';
import { loadContract, type Contract } from './contract/load-contract.js';
import { buildOpenApiBackend, precompileRequestValidators } from './contract/openapi-backend.js';
import { apiBodyParser } from './http/body-parsers.js';
import { openApiMiddleware, wireOperations } from './http/dispatch.js';
import { mountDocs } from './http/docs.js';
import { defaultOperationRegistry, type OperationRegistry } from './operations/registry.js';

export interface RestAdapterDeps {
  /** Handlers to serve; defaults to every handler the adapter ships. */
  registry?: OperationRegistry;
  logger?: Logger;
}

export interface RestAdapter extends HttpService {
  readonly contract: Contract;
}

/**
 * Starts the REST adapter: every /api and /internal request is routed and validated against the contract
 * (doc/api/openapi.yaml, read once here), then answered by its registered handler or 501 not_implemented.
 * All request validators are compiled before the port opens.
 */
export async function createRestAdapter(config: RestAdapterConfig, deps: RestAdapterDeps = {}): Promise<RestAdapter> {
  const logger = deps.logger ?? createLogger('rest-adapter', config.logLevel);
  const contract = loadContract(config.openapiPath);
  const api = await buildOpenApiBackend(contract.document);
  wireOperations(api, { contract, registry: deps.registry ?? defaultOperationRegistry(), logger });
  const compiled = precompileRequestValidators(api);
  logger.info({ operations: contract.operations.length, validators: compiled }, 'contract loaded');

  const service = await createHttpService({
    name: 'rest-adapter',
    host: config.host,
    port: config.port,
    logger,
    configure: (app) => {
      mountDocs(app, contract);
      app.use(apiBodyParser(config.bodyLimit));
      app.use(openApiMiddleware(api));
    },
  });
  return Object.assign(service, { contract });
}
