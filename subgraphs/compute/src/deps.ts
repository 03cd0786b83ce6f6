import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { NatsConnection } from '@gpuaas/events';
import type { SubgraphContext } from '@gpuaas/service-kit';
import type { Logger } from '@gpuaas/telemetry';
import type { ComputeConfig } from './config.js';

/**
 * What the compute domain runs on; built once by whoever hosts it (the subgraph's server.ts, the rest-adapter's
 * internal API, the provisioning worker) and shared by every request. Domain services take it as their first
 * argument, so every host runs the same code against the same tables.
 */
export interface ComputeDeps {
  readonly pool: pg.Pool;
  readonly nats: NatsConnection;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly config: ComputeConfig;
}

/** A resolver's context: the caller as the gateway verified it, plus the domain's deps. */
export interface ComputeContext extends SubgraphContext {
  readonly deps: ComputeDeps;
}
