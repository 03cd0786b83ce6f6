import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import express from 'express';
import type { DocumentNode } from 'graphql';
import type { Logger } from '@gpuaas/telemetry';
import { offlineApolloPlugins } from './apollo-plugins.js';
import { formatGraphQLError } from './graphql-errors.js';
import { createHttpService, type HttpService, type ReadinessCheck } from './http-service.js';
import { requireGatewaySecret } from './gateway-secret.js';

export { formatGraphQLError } from './graphql-errors.js';
export type { GraphQLResolverMap };

export interface SubgraphServiceOptions<Context extends object> {
  name: string;
  host: string;
  port: number;
  logger: Logger;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<Context>;
  /** Builds the per-request context (identity from the gateway's headers arrives in a later issue). */
  context?: (req: express.Request) => Promise<Context>;
  readiness?: Record<string, ReadinessCheck>;
  introspection?: boolean;
  /**
   * When set, `/graphql` refuses every request without the gateway's secret header (`unauthenticated`).
   * Deployed subgraphs always set it; only a bare test harness may leave it out.
   */
  gatewaySecret?: string;
  /** Extra HTTP routes beside `/graphql` (e.g. the access subgraph's `/.well-known/jwks.json`). */
  routes?: (app: express.Express) => void;
  onClose?: () => Promise<void>;
}

/** A federation subgraph at `/graphql` on a service with health, readiness, metrics and tracing. */
export async function createSubgraphService<Context extends object>(options: SubgraphServiceOptions<Context>): Promise<HttpService> {
  const apollo = new ApolloServer<Context>({
    schema: buildSubgraphSchema([{ typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<unknown> }]),
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
  const guard = options.gatewaySecret !== undefined ? [requireGatewaySecret(options.gatewaySecret)] : [];
  return createHttpService({
    name: options.name,
    host: options.host,
    port: options.port,
    logger: options.logger,
    ...(options.readiness ? { readiness: options.readiness } : {}),
    configure: (app) => {
      options.routes?.(app);
      app.use(
        '/graphql',
        ...guard,
        express.json({ limit: '1mb' }),
        expressMiddleware(apollo, { context: async ({ req }) => (options.context ? options.context(req) : ({} as Context)) }),
      );
    },
    onClose: async () => {
      await apollo.stop();
      await options.onClose?.();
    },
  });
}
