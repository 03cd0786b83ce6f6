import { Redis } from 'ioredis';
import { createGatewayEngine } from '@gpuaas/gateway';
import { createIdempotencyStore } from '@gpuaas/idempotency';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger, type Logger } from '@gpuaas/telemetry';
import type { RestAdapterConfig } from './config.js';
import { loadContract, type Contract } from './contract/load-contract.js';
import { buildOpenApiBackend, precompileRequestValidators } from './contract/openapi-backend.js';
import { createEmbeddedGatewayClient } from './embedded-gateway-client.js';
import { createGatewayClient, type GatewayClient } from './gateway-client.js';
import { assertDocumentsMatchSchema } from './graphql/validate-documents.js';
import { apiBodyParser } from './http/body-parsers.js';
import { createApiDispatch } from './http/dispatch.js';
import { mountDocs } from './http/docs.js';
import { startInternalApi, type InternalApi } from './internal/internal-api.js';
import { defaultOperationRegistry, type OperationRegistry } from './operations/registry.js';
import { attachTerminalRelay } from './terminal/index.js';
import { terminalUpgradeHandlers } from './operations/compute/terminal.js';
import { createStripeWebhookHandlers } from './webhooks/stripe-webhook.js';

export interface RestAdapterDeps {
  /** Handlers to serve; defaults to every handler the adapter ships. */
  registry?: OperationRegistry;
  logger?: Logger;
  /** A Redis client the caller owns (left open on close); by default the adapter connects to `config.redisUrl`. */
  redis?: Redis;
}

export interface RestAdapter extends HttpService {
  readonly contract: Contract;
  /** Present when the node-agent API is served (config.databaseUrl set). */
  readonly internalApi: InternalApi | undefined;
}

/**
 * Starts the REST adapter: every /api and /internal request is routed and validated against the contract
 * (doc/api/openapi.yaml, read once here), then answered by its registered handler or 501 not_implemented.
 * Handlers reach the domains through the GraphQL gateway (its engine in this process, or over HTTP); mutations with X-Idempotency-Key are deduplicated in
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
  let gateway: GatewayClient;
  try {
    gateway = await connectGateway(config, logger);
  } catch (error) {
    await idempotency.close();
    if (!deps.redis) redis.disconnect();
    throw error;
  }
  // The node-agent API maps onto the compute domain directly; it needs the database and NATS, so only when configured.
  let internalApi: InternalApi | undefined;
  const release = async () => {
    await internalApi?.close();
    await gateway.close();
    await idempotency.close();
    if (!deps.redis) redis.disconnect();
  };

  try {
    if (config.databaseUrl) {
      internalApi = await startInternalApi({ ...config, databaseUrl: config.databaseUrl }, redis, logger);
      registry.registerAll(internalApi.handlers);
      registry.registerAll(terminalUpgradeHandlers);
      // The Stripe webhook maps onto the billing domain; billing and compute share the database, so the pool too.
      registry.registerAll(createStripeWebhookHandlers({ pool: internalApi.deps.pool, logger, config: { stripe: config.stripe } }));
    }
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
    // Browser terminals relay to node agents, so they need the compute deps the node-agent API connected.
    const terminal = internalApi ? attachTerminalRelay(service.server, { deps: internalApi.deps, logger }) : undefined;
    const closeService = service.close.bind(service);
    const close = async () => {
      await terminal?.close();
      await closeService();
    };
    return Object.assign(service, { contract, internalApi, close });
  } catch (error) {
    await release();
    throw error;
  }
}

/** Embedded: the gateway's engine runs here, so a REST request costs no second HTTP hop. Remote: HTTP to GATEWAY_URL. */
async function connectGateway(config: RestAdapterConfig, logger: Logger): Promise<GatewayClient> {
  if (config.gatewayMode === 'remote') return createGatewayClient({ url: config.gatewayUrl, timeoutMs: config.gatewayTimeoutMs, logger });
  // ci-allow canonical_error_guard: start-up configuration error, before any request
  if (!config.gateway) throw new Error('GATEWAY_MODE=embedded needs the gateway settings (config.gateway)');
  const engine = await createGatewayEngine(config.gateway, { logger });
  return createEmbeddedGatewayClient({ engine, timeoutMs: config.gatewayTimeoutMs, logger });
}
