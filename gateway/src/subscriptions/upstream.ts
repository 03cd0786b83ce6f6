import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { GATEWAY_IDENTITY_HEADER, signIdentity, type GatewayIdentity } from '@gpuaas/auth';

export interface UpstreamRequest {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown>;
}

export interface UpstreamSink {
  next(result: ExecutionResult): void;
  /** The subgraph could not be reached or closed the socket for good. */
  error(reason: unknown): void;
  complete(): void;
}

/**
 * The graphql-ws clients one caller connection uses towards subgraphs: one socket per subgraph, opened on the first
 * subscription and closed with the caller's socket. The socket's connection_init carries the caller's identity,
 * signed afresh on every (re)connect, exactly as the HTTP path's `X-Gateway-Identity` header does.
 */
export class UpstreamConnections {
  readonly #clients = new Map<string, Client>();

  constructor(
    private readonly identity: GatewayIdentity,
    private readonly identityKey: Uint8Array,
    private readonly urlOf: (subgraph: string) => string,
  ) {}

  subscribe(subgraph: string, request: UpstreamRequest, sink: UpstreamSink): () => void {
    return this.#client(subgraph).subscribe(
      { query: request.query, variables: request.variables, ...(request.operationName ? { operationName: request.operationName } : {}) },
      { next: (result) => sink.next(result as ExecutionResult), error: (reason) => sink.error(reason), complete: () => sink.complete() },
    );
  }

  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((client) => client.dispose()));
  }

  #client(subgraph: string): Client {
    let client = this.#clients.get(subgraph);
    if (client) return client;
    client = createClient({
      url: this.urlOf(subgraph).replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: true,
      // Kept open while the caller is connected, so a resubscribe does not pay for a new handshake.
      lazyCloseTimeout: 60_000,
      // A restarting subgraph is retried; graphql-ws gives up at once on fatal close codes (4400, 4401, 4500…).
      retryAttempts: 5,
      connectionParams: async () => ({
        [GATEWAY_IDENTITY_HEADER]: await signIdentity(this.identity, { secret: this.identityKey }),
      }),
    });
    this.#clients.set(subgraph, client);
    return client;
  }
}
