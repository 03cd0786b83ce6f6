import { createSubgraphService, openDomainConnections, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import type { ComputeConfig } from './config.js';
import type { ComputeContext, ComputeDeps } from './deps.js';
import { resolvers } from './resolvers/index.js';
import { loadTypeDefs } from './schema.js';

const NAME = 'subgraph-compute';

/** Starts the compute subgraph (Apollo Federation 2) on its own HTTP server; close() drains it, then its connections. */
export async function createComputeSubgraph(config: ComputeConfig): Promise<HttpService> {
  const logger = createLogger(NAME, config.logLevel);
  const connections = await openDomainConnections({ name: NAME, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, natsUrl: config.natsUrl, logger });
  const deps: ComputeDeps = { pool: connections.pool, nats: connections.nats, redis: connections.redis, logger, config };
  try {
    return await createSubgraphService<ComputeContext>({
      name: NAME,
      host: config.host,
      port: config.port,
      logger,
      typeDefs: loadTypeDefs(),
      resolvers,
      introspection: config.introspection,
      identitySecret: config.identitySecret,
      context: (base) => ({ ...base, deps }),
      readiness: connections.readiness,
      onClose: () => connections.close(),
    });
  } catch (error) {
    await connections.close();
    throw error;
  }
}
