import pg from 'pg';
import { loadGatewayConfig } from '@gpuaas/gateway';
import { connectNats, deleteStreams, jetstreamManager } from '@gpuaas/events';
import { createRestAdapter, defaultRestAdapterConfig } from '@gpuaas/rest-adapter';
import type { HttpService } from '@gpuaas/service-kit';
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, testNamespace } from '@gpuaas/testkit';
import { startStripeApiServer, type StripeApiServer } from '@gpuaas/testkit/stripe';
import { createWorkers, loadWorkersConfig } from '@gpuaas/workers';
import { subgraphUrlEnv } from './subgraph-urls.js';

const IDENTITY_SECRET = 'e2e-gateway-identity-secret-0123456789abcdef';
export const STRIPE_WEBHOOK_SECRET = 'whsec_e2e_payments_secret';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

export interface PaymentsStack {
  readonly restUrl: string;
  readonly stripeApi: StripeApiServer;
  readonly db: pg.Pool;
  promoteToAdmin(email: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The payments path for real, in this process on free ports: the five subgraphs and the gateway, the REST adapter
 * serving the Stripe webhook from the database, the workers that relay the outbox, apply webhooks and book credits,
 * and the loopback Stripe API the billing subgraph's SDK client is pointed at. Nothing reaches the internet.
 */
export async function startPaymentsStack(): Promise<PaymentsStack> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    const database = await createTestDatabase();
    closers.push(() => database.drop());
    const redis = await createTestRedis();
    closers.push(() => redis.cleanup());
    const stripeApi = await startStripeApiServer();
    closers.push(() => stripeApi.close());
    const db = new pg.Pool({ connectionString: database.url, max: 2 });
    closers.push(() => db.end());
    const namespace = testNamespace();
    closers.push(async () => {
      const nc = await connectNats(NATS_URL, 'payments-e2e-cleanup');
      await deleteStreams(await jetstreamManager(nc), { namespace });
      await nc.close();
    });

    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET,
    };
    const track = async <S extends { close(): Promise<void> }>(service: Promise<S>): Promise<S> => {
      const started = await service;
      closers.push(() => started.close());
      return started;
    };
    const access = await track<HttpService>(createAccessSubgraph(loadAccessConfig(env)));
    const compute = await track<HttpService>(createComputeSubgraph(loadComputeConfig(env)));
    const billing = await track<HttpService>(
      createBillingSubgraph(loadBillingConfig({ ...env, STRIPE_API_BASE_URL: stripeApi.url, STRIPE_SECRET_KEY: 'sk_test_e2e', STRIPE_WEBHOOK_SECRET })),
    );
    const workloads = await track<HttpService>(createWorkloadsSubgraph(loadWorkloadsConfig(env)));
    const platform = await track<HttpService>(createPlatformSubgraph(loadPlatformConfig(env)));
    // Payments are driven through REST only: the adapter's embedded gateway engine is the only gateway here.
    const gatewayConfig = loadGatewayConfig({
      ...env,
      ...subgraphUrlEnv({ access, compute, billing, workloads, platform }),
    });
    await track(
      createWorkers(loadWorkersConfig({ ...env, WORKER_ROLES: 'outbox-relay,webhook-worker,billing-worker', OUTBOX_POLL_INTERVAL_MS: '50' })),
    );
    const rest = await track(
      createRestAdapter(
        defaultRestAdapterConfig({
          port: 0,
          logLevel: 'silent',
          nodeEnv: 'test',
          gatewayMode: 'embedded',
          gateway: gatewayConfig,
          redisUrl: redis.url,
          redisKeyPrefix: redis.keyPrefix,
          databaseUrl: database.url,
          natsUrl: NATS_URL,
          natsNamespace: namespace,
          stripe: { webhookSecret: STRIPE_WEBHOOK_SECRET, webhookToleranceSeconds: 300 },
        }),
        { logger: createLogger('rest-adapter-payments-e2e', 'silent') },
      ),
    );
    return {
      restUrl: rest.url,
      stripeApi,
      db,
      async promoteToAdmin(email) {
        await db.query("UPDATE access.users SET role = 'admin', updated_at = now() WHERE lower(email) = lower($1)", [email]);
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
