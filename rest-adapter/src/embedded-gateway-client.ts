import { AppError } from '@gpuaas/errors';
import type { GatewayEngine } from '@gpuaas/gateway';
import { withSpan, type Logger } from '@gpuaas/telemetry';
import { dataOf, type GatewayClient } from './gateway-client.js';

export interface EmbeddedGatewayClientOptions {
  /** The gateway's engine in this process; closed with the client. */
  readonly engine: GatewayEngine;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * Runs GraphQL documents through the gateway's engine in this process: the same authentication, limits, query
 * planning and subgraph calls as a POST to the gateway, without the loopback HTTP hop. Answers map to AppErrors
 * exactly as the remote client's do (`dataOf`); an engine that fails or does not answer in time is
 * `service_unavailable`, like a gateway that cannot be reached.
 */
export function createEmbeddedGatewayClient(options: EmbeddedGatewayClientOptions): GatewayClient {
  const { engine, timeoutMs, logger } = options;
  return {
    async execute<TData>(request: Parameters<GatewayClient['execute']>[0], forwarded: Parameters<GatewayClient['execute']>[1]): Promise<TData> {
      const name = request.operationName ?? 'anonymous';
      return withSpan(`graphql ${name}`, { 'graphql.operation.name': name, 'correlation.id': forwarded.correlationId }, async () => {
        // Over HTTP the variables are JSON; the same copy here drops `undefined` (absent, not null, to GraphQL)
        // and turns Dates into strings, so both modes coerce exactly the same values.
        const variables = JSON.parse(JSON.stringify(request.variables ?? {})) as Record<string, unknown>;
        let answer: Awaited<ReturnType<GatewayEngine['execute']>>;
        try {
          answer = await withTimeout(
            engine.execute({ document: request.document, operationName: request.operationName, variables }, forwarded),
            timeoutMs,
          );
        } catch (error) {
          logger.warn({ err: error, correlation_id: forwarded.correlationId, operation: name }, 'embedded gateway failed');
          throw new AppError('service_unavailable', 'The API gateway is unavailable; retry shortly', undefined, { cause: error });
        }
        return dataOf<TData>(answer.status, answer.body, name, forwarded.correlationId, logger);
      });
    },
    close: () => engine.close(),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway engine did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
