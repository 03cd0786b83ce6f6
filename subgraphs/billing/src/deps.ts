import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { NatsConnection } from '@gpuaas/events';
import type { SubgraphContext } from '@gpuaas/service-kit';
import type { Logger } from '@gpuaas/telemetry';
import type { BillingConfig } from './config.js';

/**
 * What the billing domain runs on; built once by whoever hosts it (the subgraph, the rest-adapter's webhook
 * route, the billing and webhook workers) so every host runs the same services against the same tables.
 */
export interface BillingDeps {
  readonly pool: pg.Pool;
  readonly nats: NatsConnection;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly config: BillingConfig;
}

/** A resolver's context: the caller as the gateway verified it, plus the domain's deps. */
export interface BillingContext extends SubgraphContext {
  readonly deps: BillingDeps;
}
