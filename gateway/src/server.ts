import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { createHttpService, formatGraphQLError, offlineApolloPlugins, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import type { GatewayConfig } from './config.js';
import { depthLimitRule } from './depth-limit.js';
import { subgraphReadiness } from './readiness.js';
import { SubgraphDataSource, type GatewayContext } from './subgraph-data-source.js';
import { loadSupergraphSdl, subgraphNames, type SubgraphName } from './supergraph.js';

/**
 * Starts the federation gateway over the checked-in supergraph at `/graphql`. Subgraph URLs come from config by
 * subgraph name, so the same supergraph file serves every environment.
 */
export async function createGateway(config: GatewayConfig): Promise<HttpService> {
  const logger = createLogger('gateway', config.logLevel);
  // @apollo/gateway would otherwise probe cloud metadata endpoints and export usage metrics to Apollo from its
  // constructor; this variable is its only off switch, so it is set here rather than left to each environment.
  process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: loadSupergraphSdl(),
    buildService: ({ name }) => new SubgraphDataSource(urlOf(config, name), config.gatewaySecret, { name, logger }),
    logger,
  });
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
      // Without introspection, "did you mean" hints would still leak field names.
      ...(config.introspection ? [] : [ApolloServerPluginDisableSuggestions()]),
    ],
    formatError: (formatted, error) => formatGraphQLError(formatted, error, logger),
  });
  await apollo.start();
  try {
    return await createHttpService({
      name: 'gateway',
      host: config.host,
      port: config.port,
      logger,
      readiness: subgraphReadiness(config.subgraphUrls),
      configure: (app) => {
        app.use(
          '/graphql',
          express.json({ limit: '1mb' }),
          expressMiddleware(apollo, {
            context: async ({ res }) => ({ correlationId: res.locals['correlationId'] as string }),
          }),
        );
      },
      onClose: () => apollo.stop(),
    });
  } catch (error) {
    await apollo.stop();
    throw error;
  }
}

function urlOf(config: GatewayConfig, name: string): string {
  if (!isSubgraphName(name)) throw new Error(`The supergraph names a subgraph "${name}" that the gateway has no URL for`);
  return config.subgraphUrls[name];
}

function isSubgraphName(name: string): name is SubgraphName {
  return (subgraphNames as readonly string[]).includes(name);
}
