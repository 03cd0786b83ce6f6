import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import express from 'express';
import type { DocumentNode } from 'graphql';
import type { Logger } from '@gpuaas/telemetry';
import { offlineApolloPlugins } from './apollo-plugins.js';
import { requireGatewayIdentity, subgraphContextOf, type IdentitySecret, type SubgraphContext } from './gateway-identity.js';
import { formatGraphQLError } from './graphql-errors.js';
import { createHttpService, type HttpService, type ReadinessCheck } from './http-service.js';
import { serveSubgraphSubscriptions } from './subgraph-subscriptions.js';

export { formatGraphQLError, sendGraphQLError } from './graphql-errors.js';
export type { GraphQLResolverMap };

export interface SubgraphServiceOptions<Context extends SubgraphContext = SubgraphContext> {
  name: string;
  host: string;
  port: number;
  logger: Logger;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<Context>;
  /**
   * The gateway's identity-signing secret (GATEWAY_IDENTITY_SECRET, ≥ 32 bytes). Every `/graphql` request must
   * carry a valid `X-Gateway-Identity` signed with it, or it is refused with 401 `unauthenticated`.
   */
  identitySecret: IdentitySecret;
  /**
   * Extends the per-request context; `base` holds the verified caller and correlation id. Without it resolvers
   * get `base` itself. `req` is undefined for operations over the subscription websocket.
   */
  context?: (base: SubgraphContext, req: express.Request | undefined) => Context | Promise<Context>;
  readiness?: Record<string, ReadinessCheck>;
  introspection?: boolean;
  /** Extra HTTP routes beside `/graphql`, outside the identity guard (e.g. access's `/.well-known/jwks.json`). */
  routes?: (app: express.Express) => void;
  onClose?: () => Promise<void>;
}

/**
 * A federation subgraph at `/graphql` on a service with health, readiness, metrics and tracing. It serves only
 * requests that came through the gateway and hands resolvers the caller the gateway verified.
 */
export async function createSubgraphService<Context extends SubgraphContext = SubgraphContext>(
  options: SubgraphServiceOptions<Context>,
): Promise<HttpService> {
  const guard = requireGatewayIdentity(options.identitySecret);
  const schema = buildSubgraphSchema([{ typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<unknown> }]);
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: options.introspection ?? true,
    includeStacktraceInErrorResponses: false,
    // closeOnSignals owns shutdown; Apollo's own handler would stop early and re-raise the signal.
    stopOnTerminationSignals: false,
    logger: options.logger,
    // Federated traces only matter with usage reporting, which is off; this also silences a start-up notice.
    plugins: [...offlineApolloPlugins<Context>(), ApolloServerPluginInlineTraceDisabled()],
    formatError: (formatted, error) => formatGraphQLError(formatted, error, options.logger),
  });
  await apollo.start();
  const buildContext = async (req: express.Request, res: express.Response): Promise<Context> => {
    const base = subgraphContextOf(res);
    return options.context ? options.context(base, req) : (base as Context);
  };
  try {
    const service = await createHttpService({
      name: options.name,
      host: options.host,
      port: options.port,
      logger: options.logger,
      ...(options.readiness ? { readiness: options.readiness } : {}),
      configure: (app) => {
        options.routes?.(app);
        app.use(
          '/graphql',
          guard,
          express.json({ limit: '1mb' }),
          expressMiddleware(apollo, { context: ({ req, res }) => buildContext(req, res) }),
        );
      },
      onClose: async () => {
        await apollo.stop();
        await options.onClose?.();
      },
    });
    // A schema with a Subscription type is also served over graphql-ws on the same path (the gateway's bridge).
    if (!schema.getSubscriptionType()) return service;
    const subscriptions = serveSubgraphSubscriptions<Context>({
      server: service.server,
      path: '/graphql',
      schema,
      identitySecret: options.identitySecret,
      logger: options.logger,
      context: (base) => (options.context ? options.context(base, undefined) : (base as Context)),
    });
    return {
      ...service,
      async close() {
        await subscriptions.close();
        await service.close();
      },
    };
  } catch (error) {
    await apollo.stop();
    throw error;
  }
}
