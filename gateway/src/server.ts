import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { authenticateCaller, callerIdentityOf, refuseCredentialsInQuery } from './caller-identity.js';
import type { GatewayConfig } from './config.js';
import { createGatewayEngine } from './engine.js';
import { serveGraphqlPostsFirst } from './graphql-front.js';
import { redisReadiness, subgraphReadiness } from './readiness.js';
import { SubgraphDataSource } from './subgraph-data-source.js';
import { serveGatewaySubscriptions, type GatewaySubscriptions } from './subscriptions/index.js';
import { subgraphNames, type SubgraphName } from './supergraph.js';

export interface GatewayDeps {
  /** Another composed supergraph (tests); its subgraph names must be among the configured ones. */
  supergraphSdl?: string;
  /** false: every `/graphql` request goes through Express (tests compare both paths); default true. */
  graphqlFront?: boolean;
}

/** express.json()'s limit on `/graphql` bodies, in bytes (1 MiB). */
const GRAPHQL_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Starts the federation gateway over the checked-in supergraph at `/graphql`. Each request's access token is
 * verified once here (JWKS + Redis revocation marks) and the caller is forwarded to subgraphs as a signed
 * identity. Subgraph URLs come from config by subgraph name, so the same supergraph file serves every environment.
 */
export async function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<HttpService> {
  const logger = createLogger('gateway', config.logLevel);
  const engine = await createGatewayEngine(config, { ...(deps.supergraphSdl === undefined ? {} : { supergraphSdl: deps.supergraphSdl }), logger });
  let subscriptions: GatewaySubscriptions | undefined;
  engine.onSchemaLoadOrUpdate((coreSupergraphSdl) => subscriptions?.setSupergraph(coreSupergraphSdl));
  try {
    const service = await createHttpService({
      name: 'gateway',
      host: config.host,
      port: config.port,
      logger,
      readiness: { ...subgraphReadiness(config.subgraphUrls), redis: redisReadiness(engine.redis) },
      configure: (app) => {
        // An ETag is a SHA-1 of every response body; GraphQL POST answers are never revalidated, so it is pure cost.
        app.set('etag', false);
        app.use(
          '/graphql',
          refuseCredentialsInQuery(),
          authenticateCaller(engine),
          express.json({ limit: GRAPHQL_BODY_LIMIT_BYTES }),
          expressMiddleware(engine.apollo, {
            context: async ({ res }) => ({ correlationId: res.locals['correlationId'] as string, identity: callerIdentityOf(res) }),
          }),
        );
      },
      onClose: () => engine.close(),
    });
    if (deps.graphqlFront !== false) {
      serveGraphqlPostsFirst(service.server, { engine, service: 'gateway', metrics: service.metrics, logger, bodyLimitBytes: GRAPHQL_BODY_LIMIT_BYTES });
    }
    // Subscriptions: graphql-ws on the same server and path, bridged to the subgraphs' own websockets.
    subscriptions = serveGatewaySubscriptions({
      server: service.server,
      path: '/graphql',
      supergraphSdl: engine.supergraphSdl,
      logger,
      identitySecret: config.identitySecret,
      authenticate: engine.authenticate,
      clientIp: engine.clientIp,
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
    await engine.close();
    throw error;
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
