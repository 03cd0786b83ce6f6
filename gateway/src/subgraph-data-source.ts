import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { AppError } from '@gpuaas/errors';
import { gatewayHeaders } from '@gpuaas/service-kit';
import { currentCorrelationId, type Logger } from '@gpuaas/telemetry';

type FetcherResponse = Parameters<RemoteGraphQLDataSource['didEncounterError']>[2];

export interface GatewayContext {
  readonly correlationId: string;
}

export interface SubgraphDataSourceOptions {
  /** The subgraph's name in the supergraph, for logs. */
  name?: string;
  logger?: Logger;
}

/**
 * Calls one subgraph, carrying what the subgraph needs to trust and trace the request: the client's correlation
 * id and the gateway's credential. A subgraph that cannot be reached becomes `service_unavailable` (retryable).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #headers: Readonly<Record<string, string>>;
  readonly #name: string;
  readonly #logger: Logger | undefined;

  constructor(url: string, gatewaySecret: string, options: SubgraphDataSourceOptions = {}) {
    super({ url });
    this.#headers = gatewayHeaders(gatewaySecret);
    this.#name = options.name ?? url;
    this.#logger = options.logger;
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = options.request.http?.headers;
    if (!headers) return;
    // Health checks and schema loads carry no request context.
    const correlationId = (options.context as Partial<GatewayContext>).correlationId ?? currentCorrelationId();
    headers.set('x-correlation-id', correlationId);
    for (const [name, value] of Object.entries(this.#headers)) headers.set(name, value);
  }

  override didEncounterError(error: Error, _request: unknown, response: FetcherResponse): never {
    // With a response the subgraph answered (its errors pass through); without one it was never reached.
    if (response !== undefined) throw error;
    this.#logger?.warn({ err: error, subgraph: this.#name, correlation_id: currentCorrelationId() }, 'subgraph unreachable');
    throw new AppError('service_unavailable', 'A service behind the gateway is unreachable; retry shortly', undefined, { cause: error });
  }
}
