import { Redis } from 'ioredis';
import { createIdempotencyStore } from '@gpuaas/idempotency';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger, type Logger } from '@gpuaas/telemetry';
import type { RestAdapterConfig } from './config.js';
import { loadContract, type Contract } from './contract/load-contract.js';
import { buildOpenApiBackend, precompileRequestValidators } from './contract/openapi-backend.js';
import { createGatewayClient } from './gateway-client.js';
import { assertDocumentsMatchSchema } from './graphql/validate-documents.js';
import { apiBodyParser } from './http/body-parsers.js';
import { createApiDispatch } from './http/dispatch.js';
import { mountDocs } from './http/docs.js';
import { defaultOperationRegistry, type OperationRegistry } from './operations/registry.js';

export interface RestAdapterDeps {
  /** Handlers to serve; defaults to every handler the adapter ships. */
  registry?: OperationRegistry;
  logger?: Logger;
  /** A Redis client the caller owns (left open on close); by default the adapter connects to `config.redisUrl`. */
  redis?: Redis;
}

export interface RestAdapter extends HttpService {
  readonly contract: Contract;
}

/**
 * Starts the REST adapter: every /api and /internal request is routed and validated against the contract
 * (doc/api/openapi.yaml, read once here), then answered by its registered handler or 501 not_implemented.
 * Handlers reach the domains through the GraphQL gateway; mutations with X-Idempotency-Key are deduplicated in
 * Redis. All request validators are compiled, and every GraphQL document checked against the supergraph,
 * before the port opens.
 */
export async function createRestAdapter(config: RestAdapterConfig, deps: RestAdapterDeps = {}): Promise<RestAdapter> {
  const logger = deps.logger ?? createLogger('rest-adapter', config.logLevel);
  const registry = deps.registry ?? defaultOperationRegistry();
  assertDocumentsMatchSchema(registry);
  const contract = loadContract(config.openapiPath);
  const api = await buildOpenApiBackend(contract.document);

  const redis = deps.redis ?? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // Connection errors surface as failed commands (503) and in /readyz; the event itself only needs a listener.
  if (!deps.redis) redis.on('error', (error: unknown) => logger.debug({ err: error }, 'redis connection error'));
  const idempotency = createIdempotencyStore({
    redis,
    keyPrefix: config.redisKeyPrefix,
    retentionSeconds: config.idempotencyRetentionSeconds,
    onStoreError: (error) => logger.warn({ err: error }, 'could not record an idempotent response'),
  });
  const gateway = createGatewayClient({ url: config.gatewayUrl, timeoutMs: config.gatewayTimeoutMs, logger });
  const release = async () => {
    gateway.close();
    await idempotency.close();
    if (!deps.redis) redis.disconnect();
  };

  try {
    const compiled = precompileRequestValidators(api);
    const dispatch = createApiDispatch(api, { contract, registry, logger, gateway, idempotency });
    logger.info({ operations: contract.operations.length, validators: compiled, served: registry.operationIds().length }, 'contract loaded');

    const service = await createHttpService({
      name: 'rest-adapter',
      host: config.host,
      port: config.port,
      logger,
      readiness: {
        redis: async () => {
          await redis.ping();
        },
      },
      configure: (app) => {
        mountDocs(app, contract);
        app.use(apiBodyParser(config.bodyLimit));
        app.use(dispatch);
      },
      onClose: release,
    });
    return Object.assign(service, { contract });
  } catch (error) {
    await release();
    throw error;
  }
}
