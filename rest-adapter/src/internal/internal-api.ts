import pg from 'pg';
import type { Redis } from 'ioredis';
import type { Policies } from '@gpuaas/config';
import { connectNats } from '@gpuaas/events';
import type { ComputeDeps } from '@gpuaas/subgraph-compute/deps';
import type { Logger } from '@gpuaas/telemetry';
import type { OperationHandlers } from '../operations/registry.js';
import { createInternalHandlers } from './handlers.js';
import { createNodeWakeHub, type NodeWakeHub } from './node-wake-hub.js';

export interface InternalApiSettings {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly natsNamespace: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly policies: Policies;
}

export interface InternalApi {
  readonly handlers: OperationHandlers;
  readonly hub: NodeWakeHub;
  readonly deps: ComputeDeps;
  close(): Promise<void>;
}

/** Connects what the node-agent API needs (Postgres, NATS; Redis is the adapter's) and builds its handlers. */
export async function startInternalApi(settings: InternalApiSettings, redis: Redis, logger: Logger): Promise<InternalApi> {
  // A fleet's polls arrive in bursts (1,000 agents reconnecting after a deploy); waiting a few seconds for a connection
  // costs the agent less than an error it must back off from, so the wait for a free client is generous.
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 20, connectionTimeoutMillis: 10_000, application_name: 'rest-adapter-internal' });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database client failed'));
  let nats;
  try {
    nats = await connectNats(settings.natsUrl, 'rest-adapter-internal', { logger });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const deps: ComputeDeps = {
    pool,
    nats,
    redis,
    logger,
    config: {
      nodeEnv: 'development',
      logLevel: 'info',
      host: '',
      port: 0,
      databaseUrl: settings.databaseUrl,
      identitySecret: '',
      introspection: false,
      natsUrl: settings.natsUrl,
      natsNamespace: settings.natsNamespace,
      redisUrl: settings.redisUrl,
      redisKeyPrefix: settings.redisKeyPrefix,
      terminalWsBaseUrl: '',
      policies: settings.policies,
    },
  };
  const hub = createNodeWakeHub(nats, settings.natsNamespace);
  return {
    handlers: createInternalHandlers(deps, hub),
    hub,
    deps,
    async close() {
      hub.close();
      await nats.drain().catch(() => nats.close());
      await pool.end();
    },
  };
}
