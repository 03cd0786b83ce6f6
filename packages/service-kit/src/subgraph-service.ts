import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import express from 'express';
import { GraphQLError, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { AppError, isErrorCode } from '@gpuaas/errors';
import { currentCorrelationId, type Logger } from '@gpuaas/telemetry';
import { createHttpService, type HttpService, type ReadinessCheck } from './http-service.js';

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
  onClose?: () => Promise<void>;
}

/** A federation subgraph at `/graphql` on a service with health, readiness, metrics and tracing. */
export async function createSubgraphService<Context extends object>(options: SubgraphServiceOptions<Context>): Promise<HttpService> {
  const apollo = new ApolloServer<Context>({
    schema: buildSubgraphSchema([{ typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<unknown> }]),
    introspection: options.introspection ?? true,
    formatError: (formatted, error) => formatGraphQLError(formatted, error, options.logger),
  });
  await apollo.start();
  return createHttpService({
    name: options.name,
    host: options.host,
    port: options.port,
    logger: options.logger,
    ...(options.readiness ? { readiness: options.readiness } : {}),
    configure: (app) => {
      app.use(
        '/graphql',
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

/**
 * Every GraphQL error leaves with a catalog code in `extensions.code` and the correlation id; unexpected errors
 * lose their message and stack so nothing internal reaches a client.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const correlationId = currentCorrelationId();
  if (original instanceof AppError) {
    return {
      message: original.message,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: original.code, correlation_id: correlationId, ...(original.details ? { details: original.details } : {}) },
    };
  }
  const apolloCode = formatted.extensions?.['code'];
  if (apolloCode === 'GRAPHQL_VALIDATION_FAILED' || apolloCode === 'GRAPHQL_PARSE_FAILED' || apolloCode === 'BAD_USER_INPUT') {
    return { message: formatted.message, extensions: { code: 'validation_error', correlation_id: correlationId } };
  }
  if (isErrorCode(apolloCode)) return { ...formatted, extensions: { code: apolloCode, correlation_id: correlationId } };
  logger.error({ err: original, correlation_id: correlationId }, 'unexpected GraphQL error');
  return {
    message: 'An unexpected error occurred',
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'internal_error', correlation_id: correlationId },
  };
}
