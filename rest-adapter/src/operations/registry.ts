import type { IncomingHttpHeaders } from 'node:http';
import type { operations } from '@gpuaas/contracts';
import type { Logger } from '@gpuaas/telemetry';
import type { GraphqlDocument } from '../graphql/documents.js';
import { accessHandlers } from './access/index.js';
import { adminAccessHandlers } from './admin-access/index.js';
import { v3AccessHandlers } from './v3-access/index.js';
import { adminBillingHandlers } from './admin-billing/index.js';
import { adminComputeHandlers } from './admin-compute/index.js';
import { billingHandlers } from './billing/index.js';
import { adminOsImageHandlers } from './admin-platform/os-images.js';
import { catalogHandlers } from './catalog/index.js';
import { computeHandlers } from './compute/index.js';
import { v3ComputeHandlers } from './v3-compute/index.js';
import { v3OsImageHandlers } from './v3-platform/os-images.js';

/** An operationId of the contract (generated types), so a misspelt registration fails the typecheck. */
export type OperationId = keyof operations & string;

/** What a handler gets: the validated request (query/path coerced to the contract's types) and the request scope. */
export interface OperationContext {
  readonly operationId: string;
  readonly method: string;
  /** The request path as received, e.g. `/api/v1/projects/0193…`. */
  readonly path: string;
  /** Path parameters, URI-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  /** Header names are lower-case. */
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body (snake_case as on the wire), or undefined when none was sent. */
  readonly body: unknown;
  /** The exact request bytes, only on routes that need them (the Stripe webhook's signature covers them). */
  readonly rawBody: Buffer | undefined;
  /** The bearer credential when the request carried one; presence and shape only, not verified here. */
  readonly bearerToken: string | undefined;
  readonly correlationId: string;
  readonly logger: Logger;
  /** Aborts when the client goes away (long-polls stop waiting for it). */
  readonly signal?: AbortSignal;
  /**
   * Executes a GraphQL document at the gateway as this caller (its Authorization, correlation id and socket
   * address are forwarded). Resolves with `data`; a GraphQL error rejects with its catalog AppError.
   */
  graphql<TData = Record<string, unknown>>(document: string | GraphqlDocument, variables?: Readonly<Record<string, unknown>>): Promise<TData>;
}

export interface OperationResult {
  readonly status: number;
  /** Sent as JSON; omit for an empty body (e.g. 204). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Throw an AppError for a catalog error; anything else thrown becomes a 500 without details. */
export type OperationHandler = (ctx: OperationContext) => Promise<OperationResult>;

export type OperationHandlers = { readonly [Id in OperationId]?: OperationHandler };

/**
 * operationId → handler. Ids are typed from the generated contract types; the adapter still checks at start-up
 * and refuses to start when a handler names an operation the loaded contract lacks.
 */
export interface OperationRegistry {
  register(operationId: OperationId, handler: OperationHandler): this;
  registerAll(handlers: OperationHandlers): this;
  get(operationId: string): OperationHandler | undefined;
  has(operationId: string): boolean;
  operationIds(): string[];
}

export function createOperationRegistry(...groups: OperationHandlers[]): OperationRegistry {
  const handlers = new Map<string, OperationHandler>();
  const registry: OperationRegistry = {
    register(operationId, handler) {
      // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
      if (handlers.has(operationId)) throw new Error(`a handler for ${operationId} is already registered`);
      handlers.set(operationId, handler);
      return this;
    },
    registerAll(group) {
      for (const [operationId, handler] of Object.entries(group) as Array<[OperationId, OperationHandler | undefined]>) {
        if (handler) this.register(operationId, handler);
      }
      return this;
    },
    get: (operationId) => handlers.get(operationId),
    has: (operationId) => handlers.has(operationId),
    operationIds: () => [...handlers.keys()].sort(),
  };
  for (const group of groups) registry.registerAll(group);
  return registry;
}

/**
 * Operations mapped onto a domain service rather than GraphQL (the node-agent API, its terminal socket and the Stripe webhook): the
 * adapter registers them when it is given a database (server.ts), so the default registry does not hold them.
 */
export const domainRouteOperationIds: readonly OperationId[] = [
  'registerNode',
  'sendNodeHeartbeat',
  'waitNodeTask',
  'reportNodeTaskResult',
  'ingestGuestTelemetry',
  'receiveStripeWebhook',
  'openAgentTerminalRelay',
];

/**
 * Handler groups served by default, each from `operations/<group>/index.ts`. Operations no group serves answer
 * 501 not_implemented.
 */
const defaultHandlerGroups: OperationHandlers[] = [
  accessHandlers,
  adminAccessHandlers,
  v3AccessHandlers,
  catalogHandlers,
  computeHandlers,
  adminComputeHandlers,
  v3ComputeHandlers,
  adminOsImageHandlers,
  v3OsImageHandlers,
  billingHandlers,
  adminBillingHandlers,
];

/** A fresh registry with every handler the adapter serves by default (a new one per call, so tests may add to it). */
export function defaultOperationRegistry(): OperationRegistry {
  return createOperationRegistry(...defaultHandlerGroups);
}
