import pg from 'pg';
import { checkDatabase } from '@gpuaas/db';
import { createSubgraphService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import type { WorkloadsConfig } from './config.js';
import { resolvers } from './resolvers/index.js';
import { loadTypeDefs } from './schema.js';

const NAME = 'subgraph-workloads';

/** Starts the workloads subgraph (Apollo Federation 2) on its own HTTP server; close() drains it and the pool. */
export async function createWorkloadsSubgraph(config: WorkloadsConfig): Promise<HttpService> {
  const logger = createLogger(NAME, config.logLevel);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: 2000, application_name: NAME });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database client failed'));
  try {
    return await createSubgraphService({
      name: NAME,
      host: config.host,
      port: config.port,
      logger,
      typeDefs: loadTypeDefs(),
      resolvers,
      introspection: config.introspection,
      identitySecret: config.identitySecret,
      readiness: {
        database: () => checkDatabase(pool),
      },
      onClose: () => pool.end(),
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
}
