import type { IncomingHttpHeaders } from 'node:http';
import express from 'express';
import { graphql, GraphQLError } from 'graphql';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { supergraphSchema } from '../../src/graphql/schema.js';

export interface ReceivedRequest {
  readonly operationName: string | undefined;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
}

/** Root fields by name: a value, or a function of the field's arguments (graphql-js's default resolver calls it). */
export type RootValue = Record<string, unknown>;

export interface StubGateway {
  /** The `/graphql` URL to give the adapter as GATEWAY_URL. */
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Requests for one operation name, oldest first. */
  requestsFor(operationName: string): ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server that executes GraphQL against the supergraph schema with fixture resolvers, so the adapter's
 * documents and variables are checked by graphql-js itself (unknown fields, bad enum values and missing
 * arguments fail as they would at the gateway). Built on createHttpService like every service.
 */
export async function startStubGateway(rootValue: RootValue): Promise<StubGateway> {
  const received: ReceivedRequest[] = [];
  const service: HttpService = await createHttpService({
    name: 'stub-gateway',
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('stub-gateway', 'silent'),
    configure: (app) => {
      app.post('/graphql', express.json(), async (req, res) => {
        const { query, variables, operationName } = req.body as { query: string; variables?: Record<string, unknown>; operationName?: string };
        received.push({ operationName, query, variables: variables ?? {}, headers: req.headers });
        const result = await graphql({ schema: supergraphSchema(), source: query, rootValue, variableValues: variables ?? {}, operationName: operationName ?? null });
        res.status(result.errors && !result.data ? 400 : 200).json(result);
      });
    },
  });
  return {
    url: `${service.url}/graphql`,
    received,
    requestsFor: (operationName) => received.filter((request) => request.operationName === operationName),
    close: () => service.close(),
  };
}

/** What a subgraph throws for a catalog error: the gateway relays it with `extensions.code` and `details`. */
export function catalogError(code: string, message: string, details?: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...(details ? { details } : {}) } });
}
