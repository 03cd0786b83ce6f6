import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { AppError } from '@gpuaas/errors';
import { anonymousIdentity, GATEWAY_IDENTITY_HEADER, identityKey, signIdentity, type GatewayIdentity } from '@gpuaas/auth';
import { currentCorrelationId, type Logger } from '@gpuaas/telemetry';
import { createSubgraphFetcher } from './subgraph-fetcher.js';

type FetcherResponse = Parameters<RemoteGraphQLDataSource['didEncounterError']>[2];

export interface GatewayContext {
  readonly correlationId: string;
  /** The caller as the gateway verified it (anonymous without a token); forwarded signed to every subgraph. */
  readonly identity: GatewayIdentity;
}

export interface SubgraphDataSourceOptions {
  /** The subgraph's name in the supergraph, for logs. */
  name?: string;
  logger?: Logger;
  /** How the subgraph is called; by default a keep-alive `node:http` client of its own. */
  fetcher?: RemoteGraphQLDataSource['fetcher'];
}

/**
 * Calls one subgraph, carrying what the subgraph needs to trust and trace the request: the correlation id and a
 * freshly signed identity assertion (60 s), which is the only thing a subgraph believes about the caller. A
 * subgraph that cannot be reached becomes `service_unavailable` (retryable).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #identityKey: Uint8Array;
  readonly #name: string;
  readonly #logger: Logger | undefined;

  constructor(url: string, identitySecret: string | Uint8Array, options: SubgraphDataSourceOptions = {}) {
    super({ url, fetcher: options.fetcher ?? createSubgraphFetcher() });
    this.#identityKey = identityKey(identitySecret);
    this.#name = options.name ?? url;
    this.#logger = options.logger;
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const headers = options.request.http?.headers;
    if (!headers) return;
    // Health checks and schema loads carry no request context: they go out as an anonymous gateway call.
    const context = options.context as Partial<GatewayContext>;
    const correlationId = context.correlationId ?? currentCorrelationId();
    const identity = context.identity ?? anonymousIdentity(correlationId);
    headers.set('x-correlation-id', correlationId);
    headers.set(GATEWAY_IDENTITY_HEADER, await signIdentity({ ...identity, correlationId }, { secret: this.#identityKey }));
  }

  override didEncounterError(error: Error, _request: unknown, response: FetcherResponse): never {
    // With a response the subgraph answered (its errors pass through); without one it was never reached.
    if (response !== undefined) throw error;
    this.#logger?.warn({ err: error, subgraph: this.#name, correlation_id: currentCorrelationId() }, 'subgraph unreachable');
    throw new AppError('service_unavailable', 'A service behind the gateway is unreachable; retry shortly', undefined, { cause: error });
  }
}
