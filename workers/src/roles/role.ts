import type pg from 'pg';
import type { JetStreamClient, JetStreamManager, NatsConnection } from '@gpuaas/events';
import type { Logger, ServiceMetrics } from '@gpuaas/telemetry';
import type { WorkersConfig } from '../config.js';

/** What every role gets: shared connections and the process's metrics registry. */
export interface RoleContext {
  readonly config: WorkersConfig;
  readonly logger: Logger;
  readonly pool: pg.Pool;
  /** Core NATS, for signals sent after a commit (node wake-ups). */
  readonly nats: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly metrics: ServiceMetrics;
}

export interface RunningRole {
  /** Finishes the work in hand and stops taking more. */
  stop(): Promise<void>;
}

export type StartRole = (context: RoleContext) => Promise<RunningRole>;
