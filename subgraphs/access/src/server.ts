import pg from 'pg';
import { Redis } from 'ioredis';
import { createTokenRevocationStore, warmUpDummyHash } from '@gpuaas/auth';
import { checkDatabase } from '@gpuaas/db';
import { createLoginStateStore } from '@gpuaas/oidc';
import { createRateLimiter } from '@gpuaas/rate-limit';
import { createSubgraphService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import type { AccessConfig } from './config.js';
import type { AccessContext } from './context.js';
import { resolvers } from './resolvers/index.js';
import { loadTypeDefs } from './schema.js';
import type { AccessDeps } from './services/deps.js';
import { createMailSender } from './services/mail.js';
import { createOidcClients } from './services/oidc-clients.js';
import { loadSigningKeys } from './services/signing-keys.js';

const NAME = 'subgraph-access';
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Starts the access subgraph (Apollo Federation 2) on its own HTTP server, with the JWKS of its token signing keys
 * at `/.well-known/jwks.json`; close() drains it, then the pool and the Redis connection.
 */
export async function createAccessSubgraph(config: AccessConfig): Promise<HttpService> {
  const logger = createLogger(NAME, config.logLevel);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: 2000, application_name: NAME });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database client failed'));
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection failed'));
  const release = async () => {
    await pool.end();
    redis.disconnect();
  };

  try {
    await redis.connect();
    const prefix = config.redisKeyPrefix;
    const deps: AccessDeps = {
      pool,
      config,
      logger,
      revocations: createTokenRevocationStore(redis, `${prefix}auth:`),
      rateLimiter: createRateLimiter({ redis, keyPrefix: prefix }),
      loginStates: createLoginStateStore(redis, prefix),
      signingKeys: await loadSigningKeys(pool, { accessTokenTtlSeconds: config.policies.access_token_ttl_seconds }),
      mail: createMailSender(config.mailSender),
      oidcClients: createOidcClients(config.oidc, { allowInsecureLoopback: config.oidcAllowInsecureLoopback }),
    };
    // The first unknown-email login would otherwise pay for building the dummy hash and answer measurably slower.
    await warmUpDummyHash();

    return await createSubgraphService<AccessContext>({
      name: NAME,
      host: config.host,
      port: config.port,
      logger,
      typeDefs: loadTypeDefs(),
      resolvers,
      introspection: config.introspection,
      identitySecret: config.identitySecret,
      context: (base) => ({ ...base, deps }),
      routes: (app) => {
        app.get(JWKS_PATH, async (_req, res, next) => {
          try {
            res.setHeader('Cache-Control', 'public, max-age=300');
            res.json(await deps.signingKeys.jwks());
          } catch (error) {
            next(error);
          }
        });
      },
      readiness: {
        database: () => checkDatabase(pool),
        redis: async () => {
          await redis.ping();
        },
      },
      onClose: async () => {
        await pool.end();
        await redis.quit().catch(() => redis.disconnect());
      },
    });
  } catch (error) {
    await release();
    throw error;
  }
}
