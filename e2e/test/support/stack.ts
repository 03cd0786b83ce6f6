import pg from 'pg';
import { createGateway, loadGatewayConfig } from '@gpuaas/gateway';
import { createRestAdapter, defaultRestAdapterConfig } from '@gpuaas/rest-adapter';
import type { HttpService } from '@gpuaas/service-kit';
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { startTestOidcProvider, type TestOidcAccount, type TestOidcProvider } from '@gpuaas/testkit/oidc-provider';
import { subgraphUrlEnv } from './subgraph-urls.js';

/** The OIDC provider id the access subgraph is configured with (REST paths use it). */
export const OIDC_PROVIDER = 'testidp';
/** Where the test IdP sends the browser back: the console page that would forward code and state. */
export const OIDC_REDIRECT_URI = 'http://127.0.0.1:5173/login/oidc/callback';
const OIDC_CLIENT_ID = 'gpuaas-e2e';
const IDENTITY_SECRET = 'e2e-gateway-identity-secret-0123456789abcdef';

export interface AccessStack {
  /** The REST adapter's origin, e.g. `http://127.0.0.1:40123`. */
  readonly restUrl: string;
  /** The gateway's `/graphql` URL. */
  readonly graphqlUrl: string;
  readonly idp: TestOidcProvider;
  /** A connection pool on this stack's database, for what an operator does by hand and for audit checks. */
  readonly db: pg.Pool;
  /** What an operator bootstrap does: make a user a platform admin straight in access.users. */
  promoteToAdmin(email: string): Promise<void>;
  close(): Promise<void>;
}

export interface AccessStackOptions {
  readonly oidcAccounts: TestOidcAccount[];
  /** Extra environment for the access subgraph (policies, e.g. `POLICY_LOGIN_ATTEMPTS_PER_IP_PER_15M`). */
  readonly accessEnv?: Readonly<Record<string, string>>;
}

/**
 * The real stack in this process on free ports: a fresh migrated database, the five subgraphs, the gateway, the
 * REST adapter, Redis under a prefix of its own and the loopback OpenID provider. Each part is configured through
 * its own config loader, from an environment as its main.ts would read it.
 */
export async function startAccessStack(options: AccessStackOptions): Promise<AccessStack> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    const database: TestDatabase = await createTestDatabase();
    closers.push(() => database.drop());
    const redis: TestRedis = await createTestRedis();
    closers.push(() => redis.cleanup());
    const idp = await startTestOidcProvider({
      clients: [{ client_id: OIDC_CLIENT_ID, redirect_uris: [OIDC_REDIRECT_URI] }],
      accounts: options.oidcAccounts,
      conformIdTokenClaims: false,
    });
    closers.push(() => idp.stop());
    const db = new pg.Pool({ connectionString: database.url, max: 2 });
    closers.push(() => db.end());

    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET,
    };
    const track = async (service: Promise<HttpService>): Promise<HttpService> => {
      const started = await service;
      closers.push(() => started.close());
      return started;
    };
    const access = await track(
      createAccessSubgraph(
        loadAccessConfig({
          ...env,
          OIDC_PROVIDERS: OIDC_PROVIDER,
          [`OIDC_${OIDC_PROVIDER.toUpperCase()}_ISSUER`]: idp.issuer,
          [`OIDC_${OIDC_PROVIDER.toUpperCase()}_CLIENT_ID`]: OIDC_CLIENT_ID,
          [`OIDC_${OIDC_PROVIDER.toUpperCase()}_DISPLAY_NAME`]: 'Test IdP',
          OIDC_REDIRECT_URI_ALLOWLIST: OIDC_REDIRECT_URI,
          OIDC_ALLOW_INSECURE_LOOPBACK: 'true',
          ...options.accessEnv,
        }),
      ),
    );
    const compute = await track(createComputeSubgraph(loadComputeConfig(env)));
    const billing = await track(createBillingSubgraph(loadBillingConfig(env)));
    const workloads = await track(createWorkloadsSubgraph(loadWorkloadsConfig(env)));
    const platform = await track(createPlatformSubgraph(loadPlatformConfig(env)));
    // The REST adapter embeds the gateway's engine on these same settings, as production runs it.
    const gatewayConfig = loadGatewayConfig({
      ...env,
      ...subgraphUrlEnv({ access, compute, billing, workloads, platform }),
    });
    const gateway = await track(createGateway(gatewayConfig));
    const rest = await track(
      createRestAdapter(
        defaultRestAdapterConfig({ port: 0, logLevel: 'silent', nodeEnv: 'test', gatewayMode: 'embedded', gateway: gatewayConfig, redisUrl: redis.url, redisKeyPrefix: redis.keyPrefix }),
        { logger: createLogger('rest-adapter-e2e', 'silent') },
      ),
    );

    return {
      restUrl: rest.url,
      graphqlUrl: `${gateway.url}/graphql`,
      idp,
      db,
      async promoteToAdmin(email) {
        const { rowCount } = await db.query("UPDATE access.users SET role = 'admin', updated_at = now() WHERE lower(email) = lower($1)", [email]);
        if (rowCount !== 1) throw new Error(`no user ${email} to promote`);
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
