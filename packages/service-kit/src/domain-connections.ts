import pg from 'pg';
import { Redis } from 'ioredis';
import { connectNats, type NatsConnection } from '@gpuaas/events';
import type { Logger } from '@gpuaas/telemetry';

export interface DomainConnectionSettings {
  /** application_name in Postgres and the NATS connection name. */
  readonly name: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly natsUrl: string;
  readonly logger: Logger;
  readonly poolSize?: number;
}

export interface DomainConnections {
  readonly pool: pg.Pool;
  readonly redis: Redis;
  readonly nats: NatsConnection;
  /** Readiness checks for createHttpService/createSubgraphService. */
  readonly readiness: Record<string, () => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Opens what a domain host needs (Postgres pool, Redis, NATS), or nothing: a failure part-way closes what was opened.
 * Subgraphs, the rest-adapter's domain routes and workers share it so every host treats its connections the same.
 */
export async function openDomainConnections(settings: DomainConnectionSettings): Promise<DomainConnections> {
  const { name, logger } = settings;
  // A burst queues for a connection rather than failing: 2 s turned 200 concurrent allocation requests into 500s
  // (e2e/test/allocations-concurrency); the wait stays under the REST adapter's 30 s gateway timeout.
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: settings.poolSize ?? 10, connectionTimeoutMillis: 10_000, application_name: name });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database client failed'));
  const redis = new Redis(settings.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection failed'));
  let nats: NatsConnection | undefined;
  const close = async () => {
    await nats?.drain().catch(() => nats?.close());
    await pool.end();
    await redis.quit().catch(() => redis.disconnect());
  };
  try {
    await redis.connect();
    nats = await connectNats(settings.natsUrl, name, { logger });
  } catch (error) {
    await close();
    throw error;
  }
  const natsConnection = nats;
  return {
    pool,
    redis,
    nats: natsConnection,
    readiness: {
      database: async () => {
        await pool.query('SELECT 1');
      },
      redis: async () => {
        await redis.ping();
      },
      nats: async () => {
        await natsConnection.flush();
      },
    },
    close,
  };
}
