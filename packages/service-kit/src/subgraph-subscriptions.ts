import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { AppError } from '@gpuaas/errors';
import { GATEWAY_IDENTITY_HEADER, readGatewayIdentity, type GatewayIdentity, type IdentitySecret } from '@gpuaas/auth';
import { runWithContext, type Logger } from '@gpuaas/telemetry';
import type { SubgraphContext } from './gateway-identity.js';
import { formatGraphQLError } from './graphql-errors.js';

export interface SubgraphSubscriptionOptions<Context extends SubgraphContext> {
  readonly server: Server;
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly identitySecret: IdentitySecret;
  readonly logger: Logger;
  readonly context: (base: SubgraphContext) => Context | Promise<Context>;
}

export interface SubscriptionServer {
  /** Ends every subscription and closes every socket; call it before closing the HTTP server (which waits for them). */
  close(): Promise<void>;
}

type ConnectionExtra = { identity?: GatewayIdentity };

/**
 * graphql-ws on the subgraph's HTTP server and `/graphql` path. Like the HTTP path, it serves only the gateway: the
 * connection_init payload must carry a valid `X-Gateway-Identity` assertion, and that identity is the context of
 * every operation on the socket (the gateway opens one upstream socket per caller connection).
 */
export function serveSubgraphSubscriptions<Context extends SubgraphContext>(options: SubgraphSubscriptionOptions<Context>): SubscriptionServer {
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://subgraph.invalid').pathname !== options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.server.on('upgrade', onUpgrade);
  const disposable = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        try {
          const identity = await readGatewayIdentity(identityParam(ctx.connectionParams), { secret: options.identitySecret });
          if (identity === null) return false;
          ctx.extra.identity = identity;
          return true;
        } catch (error) {
          options.logger.debug({ code: error instanceof AppError ? error.code : undefined }, 'subscription connection refused');
          return false;
        }
      },
      context: (ctx) => {
        const identity = ctx.extra.identity;
        // ci-allow canonical_error_guard: unreachable, graphql-ws runs operations only on acknowledged connections
        if (!identity) throw new Error('subscription operation on an unauthenticated connection');
        return options.context({ identity, correlationId: identity.correlationId });
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        if (!result.errors?.length) return;
        const correlationId = ctx.extra.identity?.correlationId ?? '';
        return runWithContext({ correlationId }, () => ({
          ...result,
          errors: result.errors!.map((error) => formatGraphQLError(error.toJSON(), error, options.logger)),
        }));
      },
      onError: (ctx, _id, _payload, errors) => {
        const correlationId = ctx.extra.identity?.correlationId ?? '';
        return runWithContext({ correlationId }, () => errors.map((error) => formatGraphQLError(error.toJSON(), error, options.logger)));
      },
    },
    wss,
  );
  return {
    async close() {
      options.server.off('upgrade', onUpgrade);
      await closeGracefully(wss, () => disposable.dispose());
    },
  };
}

function identityParam(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  const wanted = GATEWAY_IDENTITY_HEADER.toLowerCase();
  for (const [key, value] of Object.entries(params)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

/** Sends every client a close frame, and cuts those that do not answer within a second (a shutdown must not hang). */
export async function closeGracefully(wss: WebSocketServer, dispose: () => Promise<void> | void): Promise<void> {
  const cut = setTimeout(() => {
    for (const client of wss.clients) client.terminate();
  }, 1000);
  try {
    await dispose();
  } finally {
    clearTimeout(cut);
  }
}
