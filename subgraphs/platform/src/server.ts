import pg from 'pg';
import { checkDatabase } from '@gpuaas/db';
import { createSubgraphService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import type { PlatformConfig } from './config.js';
import type { PlatformContext, PlatformDeps } from './context.js';
import { resolvers } from './resolvers/index.js';
import { loadTypeDefs } from './schema.js';

const NAME = 'subgraph-platform';

/** Starts the platform subgraph (Apollo Federation 2) on its own HTTP server; close() drains it and the pool. */
export async function createPlatformSubgraph(config: PlatformConfig): Promise<HttpService> {
  const logger = createLogger(NAME, config.logLevel);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: 2000, application_name: NAME });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database client failed'));
  try {
    const deps: PlatformDeps = { pool, logger };
    return await createSubgraphService<PlatformContext>({
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
      },
      onClose: () => pool.end(),
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
}
