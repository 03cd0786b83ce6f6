import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { executeQueryPlan, buildOperationContext, type ServiceMap } from '@apollo/gateway';
import { OperationTypeNode, type FormattedExecutionResult, type GraphQLError as GraphQLErrorType, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type ExecutionArgs } from 'graphql';
import type { Context, ExecutionResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError } from '@gpuaas/errors';
import { identityKey, readBearerToken, type GatewayIdentity } from '@gpuaas/auth';
import { closeGracefully, formatGraphQLError } from '@gpuaas/service-kit';
import { correlationIdFrom, runWithContext, type Logger } from '@gpuaas/telemetry';
import { CREDENTIAL_QUERY_PARAMETERS, type CallerAuthenticator } from '../caller-identity.js';
import type { ClientIpResolver } from '../client-ip.js';
import { depthLimitRule } from '../depth-limit.js';
import type { GatewayContext } from '../subgraph-data-source.js';
import { EventStream } from './event-stream.js';
import { createSubscriptionPlanner, EVENT_SOURCE, eventQueryPlan, type SubscriptionPlan, type SubscriptionPlanner } from './planner.js';
import { UpstreamConnections } from './upstream.js';

/**
 * graphql-ws recognises refusals from onSubscribe by `instanceof GraphQLError` of the graphql-js it loaded, which
 * is the CommonJS build under Node; a test runner may hand this module the ESM build. Taking the class from the
 * CommonJS build keeps refusals recognised under both.
 */
const { GraphQLError } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';
/** graphql-ws's close code for a refused credential; its clients do not retry it. */
const UNAUTHORIZED = 4401;

export interface GatewaySubscriptionOptions {
  readonly server: Server;
  readonly path: string;
  readonly supergraphSdl: string;
  readonly logger: Logger;
  readonly identitySecret: string;
  readonly authenticate: CallerAuthenticator;
  readonly clientIp: ClientIpResolver;
  /** A subgraph's HTTP `/graphql` URL; its websocket is the same URL with ws(s)://. */
  readonly subgraphUrl: (subgraph: string) => string;
  /** The data sources entity fetches go through (the same class the HTTP path uses). */
  readonly dataSources: ServiceMap;
  readonly maxQueryDepth: number;
  /** How often an open connection's token is checked again (revocation); default 60 s. */
  readonly revalidateEveryMs?: number;
}

export interface GatewaySubscriptions {
  /** Plans against another supergraph from now on (the gateway loaded a new one). */
  setSupergraph(sdl: string): void;
  /** Open caller sockets (metrics, benchmarks). */
  readonly connectionCount: number;
  close(): Promise<void>;
}

type ConnectionExtra = {
  socket: WebSocket;
  request: IncomingMessage;
  identity?: GatewayIdentity;
  upstream?: UpstreamConnections;
  timers?: NodeJS.Timeout[];
};

interface SubscriptionContext extends GatewayContext {
  readonly upstream: UpstreamConnections;
}

/**
 * graphql-ws on the gateway's HTTP server and `/graphql` path, bridging to the subgraphs' own graphql-ws servers
 * (@apollo/gateway plans subscriptions but does not execute them). The caller authenticates once per socket, with
 * `{ authorization: 'Bearer …' }` in connection_init or the token as a second Sec-WebSocket-Protocol value; the
 * token is verified exactly as on HTTP, re-checked for revocation periodically, and the socket closes when it expires.
 */
export function serveGatewaySubscriptions(options: GatewaySubscriptionOptions): GatewaySubscriptions {
  const key = identityKey(options.identitySecret);
  let planner: SubscriptionPlanner = createSubscriptionPlanner(options.supergraphSdl);
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname !== options.path) return;
    const offending = CREDENTIAL_QUERY_PARAMETERS.filter((name) => url.searchParams.has(name));
    if (offending.length > 0) {
      refuseUpgrade(socket, 400, {
        code: 'validation_error',
        message: 'Credentials are accepted only in connection_init or Sec-WebSocket-Protocol, never in a query string',
      });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.server.on('upgrade', onUpgrade);

  const format = (errors: readonly GraphQLErrorType[], correlationId: string) =>
    runWithContext({ correlationId }, () => errors.map((error) => formatGraphQLError(error.toJSON(), error, options.logger)));

  const disposable = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      onConnect: async (ctx) => {
        const { request, socket } = ctx.extra;
        const correlationId = correlationIdFrom(request.headers['x-correlation-id']);
        const token = tokenOf(ctx.connectionParams, request);
        try {
          const identity = await options.authenticate({
            authorization: token === undefined ? undefined : `Bearer ${token}`,
            correlationId,
            ip: options.clientIp(request.socket.remoteAddress, request.headers['x-forwarded-for']),
          });
          ctx.extra.identity = identity;
          ctx.extra.upstream = new UpstreamConnections(identity, key, options.subgraphUrl);
          if (token !== undefined) ctx.extra.timers = watchToken(ctx, token, correlationId);
          return true;
        } catch (error) {
          const refusal = error instanceof AppError ? error : new AppError('internal_error', 'An unexpected error occurred');
          options.logger.debug({ code: refusal.code, correlation_id: correlationId }, 'subscription credential refused');
          socket.close(refusal.code === 'unauthenticated' ? UNAUTHORIZED : 4500, closeReason(refusal));
          return false;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const identity = ctx.extra.identity!;
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [new GraphQLError((error as Error).message, { extensions: { code: 'validation_error' } })];
        }
        const errors = validate(planner.apiSchema, document, [...specifiedRules, depthLimitRule(options.maxQueryDepth)]);
        if (errors.length > 0) {
          return errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes ?? null, extensions: { code: 'validation_error', ...error.extensions }, originalError: error.originalError ?? null }));
        }
        const operation = getOperationAST(document, payload.operationName ?? undefined);
        if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) {
          return [new GraphQLError('Only subscriptions are served over the websocket; send queries and mutations over HTTP', { extensions: { code: 'validation_error' } })];
        }
        const contextValue: SubscriptionContext = { identity, correlationId: identity.correlationId, upstream: ctx.extra.upstream! };
        return {
          schema: planner.apiSchema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue,
        } satisfies ExecutionArgs;
      },
      subscribe: (args) => bridge(args),
      onError: (ctx, _id, _payload, errors) => format(errors, ctx.extra.identity?.correlationId ?? ''),
      // Results leave already formatted (plain JSON); without this hook graphql-ws would call toJSON() on each error.
      onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
      onClose: async (ctx) => {
        for (const timer of ctx.extra.timers ?? []) clearTimeout(timer);
        await ctx.extra.upstream?.close();
      },
    },
    wss,
  );

  /** Closes the caller's socket when its access token expires, and when a periodic check finds it revoked. */
  function watchToken(ctx: Context<Record<string, unknown> | undefined, ConnectionExtra>, token: string, correlationId: string): NodeJS.Timeout[] {
    const socket = ctx.extra.socket;
    const expiresAtMs = (decodeJwt(token).exp ?? 0) * 1000;
    const expiry = setTimeout(() => socket.close(UNAUTHORIZED, 'unauthenticated: the access token has expired'), Math.max(0, expiresAtMs - Date.now()));
    const every = options.revalidateEveryMs ?? 60_000;
    const recheck = setInterval(() => {
      options.authenticate({ authorization: `Bearer ${token}`, correlationId, ip: undefined }).catch((error: unknown) => {
        // Redis being away is not the caller's fault: keep the socket, check again next time.
        if (error instanceof AppError && error.code === 'unauthenticated') socket.close(UNAUTHORIZED, closeReason(error));
      });
    }, every);
    expiry.unref();
    recheck.unref();
    return [expiry, recheck];
  }

  function bridge(args: ExecutionArgs): ExecutionResult | EventStream<ExecutionResult> {
    const context = args.contextValue as SubscriptionContext;
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const operationName = args.operationName ?? undefined;
    let plan: SubscriptionPlan;
    try {
      plan = planner.plan(args.document, operationName);
    } catch (error) {
      options.logger.error({ err: error, correlation_id: context.correlationId }, 'could not plan a subscription');
      return { errors: format([new GraphQLError('An unexpected error occurred', { originalError: error as Error, extensions: { code: 'internal_error' } })], context.correlationId) as never };
    }
    const current = planner;
    const queryPlan = eventQueryPlan(plan);
    const operationContext = buildOperationContext({ schema: current.gatewayApiSchema, operationDocument: args.document, ...(operationName ? { operationName } : {}) });
    const gatewayContext: GatewayContext = { identity: context.identity, correlationId: context.correlationId };

    const shape = async (event: ExecutionResult): Promise<ExecutionResult> => {
      // An event without data is the subgraph refusing or failing the subscription: pass its errors on as they are.
      if (event.data === undefined || event.data === null) return event;
      const serviceMap: ServiceMap = { ...options.dataSources, [EVENT_SOURCE]: { process: async () => event as never } };
      const requestContext = {
        request: { query: '', variables, operationName },
        context: gatewayContext,
        logger: options.logger,
        metrics: {},
      };
      const result = await runWithContext({ correlationId: context.correlationId }, () =>
        executeQueryPlan(queryPlan, serviceMap, requestContext as never, operationContext, current.supergraphSchema, current.federationApiSchema),
      );
      const errors = result.errors?.length ? format(result.errors, context.correlationId) : undefined;
      return { data: result.data ?? null, ...(errors ? { errors: errors as never } : {}) } as ExecutionResult;
    };

    const usedVariables = Object.fromEntries((plan.primary.variableUsages ?? []).filter((name) => name in variables).map((name) => [name, variables[name]]));
    return new EventStream<ExecutionResult>(shape).start((sink) =>
      context.upstream.subscribe(
        plan.primary.serviceName,
        { query: plan.primary.operation, operationName: plan.primary.operationName, variables: usedVariables },
        {
          next: (result) => sink.push(result),
          complete: () => sink.end(),
          error: (reason) => {
            options.logger.warn({ reason: String((reason as { reason?: string })?.reason ?? reason), subgraph: plan.primary.serviceName }, 'subscription upstream failed');
            sink.end({ errors: [{ message: 'A service behind the gateway is unreachable; retry shortly', extensions: { code: 'service_unavailable', correlation_id: context.correlationId } }] } as never);
          },
        },
      ),
    );
  }

  return {
    setSupergraph(sdl) {
      planner = createSubscriptionPlanner(sdl);
    },
    get connectionCount() {
      return wss.clients.size;
    },
    async close() {
      options.server.off('upgrade', onUpgrade);
      await closeGracefully(wss, () => disposable.dispose());
    },
  };
}

/** The access token from connection_init (`authorization: 'Bearer …'`) or, failing that, from the subprotocols. */
function tokenOf(params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): string | undefined {
  const header = params?.['authorization'] ?? params?.['Authorization'];
  if (typeof header === 'string' && header.trim() !== '') {
    // A malformed header is passed on as such so the authenticator refuses it like on HTTP.
    return readBearerToken(header) ?? header;
  }
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((value) => value.trim());
  return offered.find((value) => value !== '' && value !== GRAPHQL_TRANSPORT_WS);
}

function closeReason(error: AppError): string {
  // A close reason is at most 123 bytes.
  return `${error.code}: ${error.message}`.slice(0, 120);
}

function refuseUpgrade(socket: Duplex, status: number, error: { code: string; message: string }): void {
  const body = JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] });
  socket.end(`HTTP/1.1 ${status} Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
