import pg from 'pg';
import { connectNats, initStreams, jetstream, jetstreamManager, type NatsConnection } from '@gpuaas/events';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger, type ServiceMetrics } from '@gpuaas/telemetry';
import type { WorkersConfig } from './config.js';
import { roleStarters, type RunningRole } from './roles/index.js';

export interface Workers {
  readonly url: string;
  readonly port: number;
  readonly http: HttpService;
  close(): Promise<void>;
}

/**
 * Starts the configured worker roles on shared Postgres and NATS connections, after making sure the streams exist,
 * and serves /healthz, /readyz (database, nats, roles started) and /metrics. close() reports not-ready at once, stops
 * the roles (each finishes its work in hand), then closes NATS and the pool.
 */
export async function createWorkers(config: WorkersConfig): Promise<Workers> {
  const logger = createLogger('workers', config.logLevel);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.databasePoolSize });
  // An idle client that loses its server must not crash the process; the next query reports the problem.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle postgres connection failed'));
  let nc: NatsConnection | undefined;
  const roles: RunningRole[] = [];
  let started = false;

  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    (shuttingDown ??= (async () => {
      for (const role of roles.splice(0).reverse()) await role.stop();
      await nc?.close();
      await pool.end();
    })());

  try {
    nc = await connectNats(config.natsUrl, 'workers', { logger });
    const natsConnection = nc;
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await initStreams(jsm, { namespace: config.natsNamespace });

    let metrics!: ServiceMetrics;
    const http = await createHttpService({
      name: 'workers',
      host: config.host,
      port: config.port,
      logger,
      readiness: {
        database: async () => {
          await pool.query('SELECT 1');
        },
        nats: async () => {
          // ci-allow canonical_error_guard: readiness probe reason, reported on /readyz only
          if (natsConnection.isClosed()) throw new Error('nats connection closed');
          await jsm.getAccountInfo();
        },
        roles: async () => {
          // ci-allow canonical_error_guard: readiness probe reason, reported on /readyz only
          if (!started) throw new Error('roles are starting');
        },
      },
      configure: (_app, serviceMetrics) => {
        metrics = serviceMetrics;
      },
      onClose: shutdown,
    });

    try {
      for (const role of config.roles) {
        roles.push(await roleStarters[role]({ config, logger: logger.child({ role }), pool, nats: natsConnection, js, jsm, metrics }));
      }
    } catch (error) {
      await http.close();
      throw error;
    }
    started = true;
    logger.info({ roles: config.roles, namespace: config.natsNamespace || undefined }, 'workers started');
    return { url: http.url, port: http.port, http, close: () => http.close() };
  } catch (error) {
    await shutdown().catch(() => undefined);
    throw error;
  }
}
