import pg from 'pg';
import { Redis } from 'ioredis';
import { checkDatabase } from '@gpuaas/db';
import { connectNats } from '@gpuaas/events';
import { createSubgraphService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import type { ComputeConfig } from './config.js';
import type { ComputeContext, ComputeDeps } from './deps.js';
import { resolvers } from './resolvers/index.js';
import { loadTypeDefs } from './schema.js';

const NAME = 'subgraph-compute';

/** Starts the compute subgraph (Apollo Federation 2) on its own HTTP server; close() drains it, then its connections. */
export async function createComputeSubgraph(config: ComputeConfig): Promise<HttpService> {
  const logger = createLogger(NAME, config.logLevel);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: 2000, application_name: NAME });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database client failed'));
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection failed'));
  let nats: ComputeDeps['nats'] | undefined;
  const release = async () => {
    await nats?.drain().catch(() => nats?.close());
    await pool.end();
    redis.disconnect();
  };
  try {
    await redis.connect();
    nats = await connectNats(config.natsUrl, NAME, { logger });
    const deps: ComputeDeps = { pool, nats, redis, logger, config };
    const natsConnection = nats;
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
      readiness: {
        database: () => checkDatabase(pool),
        redis: async () => {
          await redis.ping();
        },
        nats: async () => {
          if (natsConnection.isClosed()) throw new Error('nats connection closed');
        },
      },
      onClose: async () => {
        await natsConnection.drain().catch(() => natsConnection.close());
        await pool.end();
        await redis.quit().catch(() => redis.disconnect());
      },
    });
  } catch (error) {
    await release();
    throw error;
  }
}
