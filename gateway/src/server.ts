import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { Redis } from 'ioredis';
import { createTokenRevocationStore, identityKey, remoteJwks } from '@gpuaas/auth';
import { createHttpService, formatGraphQLError, offlineApolloPlugins, type HttpService } from '@gpuaas/service-kit';
import { createLogger, type Logger } from '@gpuaas/telemetry';
import { authenticateCaller, callerIdentityOf, createCallerAuthenticator, refuseCredentialsInQuery } from './caller-identity.js';
import { createClientIpResolver, parseTrustedProxies } from './client-ip.js';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type GatewayConfig } from './config.js';
import { depthLimitRule } from './depth-limit.js';
import { queryCostPlugin } from './query-cost.js';
import { redisReadiness, subgraphReadiness } from './readiness.js';
import { SubgraphDataSource, type GatewayContext } from './subgraph-data-source.js';
import { serveGatewaySubscriptions, type GatewaySubscriptions } from './subscriptions/index.js';
import { loadSupergraphSdl, subgraphNames, type SubgraphName } from './supergraph.js';

export interface GatewayDeps {
  /** Another composed supergraph (tests); its subgraph names must be among the configured ones. */
  supergraphSdl?: string;
}

/**
 * Starts the federation gateway over the checked-in supergraph at `/graphql`. Each request's access token is
 * verified once here (JWKS + Redis revocation marks) and the caller is forwarded to subgraphs as a signed
 * identity. Subgraph URLs come from config by subgraph name, so the same supergraph file serves every environment.
 */
export async function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<HttpService> {
  const logger = createLogger('gateway', config.logLevel);
  // Fail on a short secret or a bad proxy list before anything is started.
  identityKey(config.identitySecret);
  const clientIp = createClientIpResolver(parseTrustedProxies(config.trustedProxies));
  // @apollo/gateway would otherwise probe cloud metadata endpoints and export usage metrics to Apollo from its
  // constructor; this variable is its only off switch, so it is set here rather than left to each environment.
  process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  const supergraphSdl = deps.supergraphSdl ?? loadSupergraphSdl();
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => new SubgraphDataSource(urlOf(config, name), config.identitySecret, { name, logger }),
    logger,
  });
  let subscriptions: GatewaySubscriptions | undefined;
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => subscriptions?.setSupergraph(coreSupergraphSdl));
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // closeOnSignals owns shutdown; Apollo's own handler would stop early and re-raise the signal.
    stopOnTerminationSignals: false,
    validationRules: [depthLimitRule(config.maxQueryDepth)],
    plugins: [
      ...offlineApolloPlugins<GatewayContext>(),
      queryCostPlugin<GatewayContext>(config.maxQueryCost),
      // Without introspection, "did you mean" hints would still leak field names.
      ...(config.introspection ? [] : [ApolloServerPluginDisableSuggestions()]),
    ],
    formatError: (formatted, error) => formatGraphQLError(formatted, error, logger),
  });
  await apollo.start();
  const redis = connectRedis(config.redisUrl, logger);
  const authenticate = createCallerAuthenticator({
    keys: remoteJwks(config.accessJwksUrl),
    revocation: createTokenRevocationStore(redis, `${config.redisKeyPrefix}auth:`),
    issuer: ACCESS_TOKEN_ISSUER,
    audience: ACCESS_TOKEN_AUDIENCE,
  });
  try {
    const service = await createHttpService({
      name: 'gateway',
      host: config.host,
      port: config.port,
      logger,
      readiness: { ...subgraphReadiness(config.subgraphUrls), redis: redisReadiness(redis) },
      configure: (app) => {
        // An ETag is a SHA-1 of every response body; GraphQL POST answers are never revalidated, so it is pure cost.
        app.set('etag', false);
        app.use(
          '/graphql',
          refuseCredentialsInQuery(),
          authenticateCaller(authenticate, clientIp, logger),
          express.json({ limit: '1mb' }),
          expressMiddleware(apollo, {
            context: async ({ res }) => ({ correlationId: res.locals['correlationId'] as string, identity: callerIdentityOf(res) }),
          }),
        );
      },
      onClose: async () => {
        await apollo.stop();
        await closeRedis(redis);
      },
    });
    // Subscriptions: graphql-ws on the same server and path, bridged to the subgraphs' own websockets.
    subscriptions = serveGatewaySubscriptions({
      server: service.server,
      path: '/graphql',
      supergraphSdl,
      logger,
      identitySecret: config.identitySecret,
      authenticate,
      clientIp,
      subgraphUrl: (name) => urlOf(config, name),
      dataSources: Object.fromEntries(subgraphNames.map((name) => [name, new SubgraphDataSource(config.subgraphUrls[name], config.identitySecret, { name, logger })])),
      maxQueryDepth: config.maxQueryDepth,
    });
    const live = subscriptions;
    return {
      ...service,
      async close() {
        await live.close();
        await service.close();
      },
    };
  } catch (error) {
    await apollo.stop();
    await closeRedis(redis);
    throw error;
  }
}

/**
 * Commands fail fast while Redis is away (one retry, 1 s timeout), so an authenticated request answers
 * `service_unavailable` promptly instead of hanging; the client keeps reconnecting in the background.
 */
function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000 });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
  return redis;
}

async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}

function urlOf(config: GatewayConfig, name: string): string {
  // ci-allow canonical_error_guard: start-up configuration error, before any request
  if (!isSubgraphName(name)) throw new Error(`The supergraph names a subgraph "${name}" that the gateway has no URL for`);
  return config.subgraphUrls[name];
}

function isSubgraphName(name: string): name is SubgraphName {
  return (subgraphNames as readonly string[]).includes(name);
}
