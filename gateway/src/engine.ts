import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import type { GraphQLFormattedError } from 'graphql';
import { Redis } from 'ioredis';
import { createTokenRevocationStore, identityKey, remoteJwks, type GatewayIdentity } from '@gpuaas/auth';
import { AppError, httpStatusOf } from '@gpuaas/errors';
import { formatGraphQLError, offlineApolloPlugins } from '@gpuaas/service-kit';
import { createLogger, runWithContext, type Logger } from '@gpuaas/telemetry';
import { createCallerAuthenticator, type CallerAuthenticator, type CallerRequest } from './caller-identity.js';
import { createClientIpResolver, normalizeAddress, parseTrustedProxies, type ClientIpResolver } from './client-ip.js';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type GatewayConfig } from './config.js';
import { depthLimitRule } from './depth-limit.js';
import { queryCostPlugin } from './query-cost.js';
import { SubgraphDataSource, type GatewayContext } from './subgraph-data-source.js';
import { loadSupergraphSdl, subgraphNames, type SubgraphName } from './supergraph.js';

export interface GatewayEngineDeps {
  /** Another composed supergraph (tests); its subgraph names must be among the configured ones. */
  supergraphSdl?: string;
  logger?: Logger;
}

/** One GraphQL request, as a client would POST it. */
export interface GatewayOperation {
  readonly document: string;
  readonly operationName?: string | undefined;
  readonly variables?: Readonly<Record<string, unknown>> | undefined;
}

/** What the gateway knows about the caller of one in-process request. */
export interface GatewayCaller {
  /** The caller's `Authorization` header, verbatim (absent: anonymous). */
  readonly authorization: string | undefined;
  readonly correlationId: string;
  /**
   * The client's address as the in-process caller (the REST adapter) saw it. That caller is trusted the way a
   * loopback proxy is over HTTP, so this is what X-Forwarded-For would have carried.
   */
  readonly clientAddress: string | undefined;
}

export interface GatewayResultBody {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLFormattedError[];
}

/** The HTTP status and body `/graphql` would have answered. */
export interface GatewayAnswer {
  readonly status: number;
  readonly body: GatewayResultBody;
}

export interface GatewayEngine {
  /** Runs one operation in this process: the same answer as a POST to the gateway's `/graphql`. */
  execute(operation: GatewayOperation, caller: GatewayCaller): Promise<GatewayAnswer>;
  /** Who is calling, or the catalog error that refuses the whole request (logged here). */
  identify(request: CallerRequest): Promise<GatewayIdentity | AppError>;
  readonly apollo: ApolloServer<GatewayContext>;
  readonly authenticate: CallerAuthenticator;
  readonly clientIp: ClientIpResolver;
  readonly redis: Redis;
  readonly supergraphSdl: string;
  readonly logger: Logger;
  /** Called with the supergraph now and whenever the gateway loads a new one. */
  onSchemaLoadOrUpdate(listener: (coreSupergraphSdl: string) => void): void;
  close(): Promise<void>;
}

/**
 * What executes a GraphQL request, without any HTTP: the federation gateway over the checked-in supergraph, Apollo
 * Server with the depth limit, cost limit and error formatting, and the caller authenticator (access JWKS + Redis
 * revocation marks). The gateway's `/graphql` serves it over HTTP; the REST adapter may run it in its own process.
 */
export async function createGatewayEngine(config: GatewayConfig, deps: GatewayEngineDeps = {}): Promise<GatewayEngine> {
  const logger = deps.logger ?? createLogger('gateway', config.logLevel);
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
  const identify = async (request: CallerRequest): Promise<GatewayIdentity | AppError> => {
    try {
      return await authenticate(request);
    } catch (error) {
      const refusal = error instanceof AppError ? error : new AppError('internal_error', 'An unexpected error occurred');
      if (refusal.code === 'service_unavailable' || refusal.code === 'internal_error') {
        logger.warn({ err: error, correlation_id: request.correlationId }, 'could not authenticate the caller');
      } else {
        logger.debug({ code: refusal.code, reason: refusal.details?.['reason'], correlation_id: request.correlationId }, 'credential refused');
      }
      return refusal;
    }
  };

  const execute = async (operation: GatewayOperation, caller: GatewayCaller): Promise<GatewayAnswer> => {
    const { correlationId } = caller;
    const identity = await identify({ authorization: caller.authorization, correlationId, ip: normalizeAddress(caller.clientAddress) });
    if (identity instanceof AppError) return refusalAnswer(identity, correlationId);
    try {
      const response = await apollo.executeOperation(
        { query: operation.document, operationName: operation.operationName, variables: operation.variables as Record<string, unknown> | undefined },
        { contextValue: { correlationId, identity } },
      );
      // Incremental delivery (@defer/@stream) is not enabled on this server, so every answer is a single result.
      // ci-allow canonical_error_guard: caught just below and answered as internal_error; never reaches a client as is
      if (response.body.kind !== 'single') throw new Error('incremental delivery is not supported in process');
      const { data, errors } = response.body.singleResult;
      return { status: response.http.status ?? 200, body: { ...(data === undefined ? {} : { data }), ...(errors === undefined ? {} : { errors }) } };
    } catch (error) {
      // Over HTTP Apollo answers an unexpected pipeline failure with a 500 and a formatted internal error.
      logger.error({ err: error, correlation_id: correlationId }, 'unexpected error executing an operation in process');
      return refusalAnswer(new AppError('internal_error', 'An unexpected error occurred'), correlationId);
    }
  };

  return {
    // The correlation id is the ambient context Apollo's formatError and the subgraph calls read, as over HTTP.
    execute: (operation, caller) => runWithContext({ correlationId: caller.correlationId }, () => execute(operation, caller)),
    identify,
    apollo,
    authenticate,
    clientIp,
    redis,
    supergraphSdl,
    logger,
    onSchemaLoadOrUpdate(listener) {
      gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => listener(coreSupergraphSdl));
    },
    async close() {
      await apollo.stop();
      await closeRedis(redis);
    },
  };
}

/** The body the gateway answers when it refuses a whole request (bad credential, missing Redis…). */
export function refusalBody(error: AppError, correlationId: string): GatewayResultBody {
  return {
    errors: [{ message: error.message, extensions: { code: error.code, correlation_id: correlationId, ...(error.details ? { details: error.details } : {}) } }],
  };
}

function refusalAnswer(error: AppError, correlationId: string): GatewayAnswer {
  return { status: httpStatusOf(error.code), body: refusalBody(error, correlationId) };
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
