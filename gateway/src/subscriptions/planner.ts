import { Supergraph, operationFromDocument, printSchema, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { buildSchema, type DocumentNode, type GraphQLSchema } from 'graphql';

/** What a subscription needs from the supergraph: the schemas to validate and shape with, and the query planner. */
export interface SubscriptionPlanner {
  /** The client-facing schema in this module's graphql-js, which operations are validated against. */
  readonly apiSchema: GraphQLSchema;
  /** The same schema in the graphql-js realm @apollo/gateway runs in (it ships CJS; this module loads graphql's ESM). */
  readonly gatewayApiSchema: GraphQLSchema;
  readonly federationApiSchema: Schema;
  readonly supergraphSchema: GraphQLSchema;
  /** The subgraph that owns the subscription field, the operation sent to it, and the fetches that complete each event. */
  plan(document: DocumentNode, operationName: string | undefined): SubscriptionPlan;
}

export interface SubscriptionPlan {
  readonly primary: FetchNode;
  readonly rest: PlanNode | undefined;
}

/** Built once per supergraph (and again whenever the gateway loads another one). */
export function createSubscriptionPlanner(supergraphSdl: string): SubscriptionPlanner {
  const supergraph = Supergraph.build(supergraphSdl);
  const federationApiSchema = supergraph.apiSchema();
  const queryPlanner = new QueryPlanner(supergraph);
  return {
    apiSchema: buildSchema(printSchema(federationApiSchema)),
    gatewayApiSchema: federationApiSchema.toGraphQLJSSchema(),
    federationApiSchema,
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    plan(document, operationName) {
      const operation = operationFromDocument(federationApiSchema, document, operationName === undefined ? {} : { operationName });
      const queryPlan: QueryPlan = queryPlanner.buildQueryPlan(operation);
      const node = queryPlan.node;
      // ci-allow canonical_error_guard: unreachable for a validated subscription; the caller turns it into internal_error
      if (node?.kind !== 'Subscription') throw new Error(`expected a subscription plan, got ${node?.kind ?? 'none'}`);
      return { primary: node.primary, rest: node.rest };
    },
  };
}

/** The serviceName that stands for "the event the owning subgraph just pushed" in a per-event plan. */
export const EVENT_SOURCE = '__subscription_event__';

/**
 * The one-off plan run for every event: the primary fetch is answered by the event itself, then the rest of the
 * subscription plan (entity fetches to other subgraphs) runs as for a query.
 */
export function eventQueryPlan(plan: SubscriptionPlan): QueryPlan {
  const eventFetch: FetchNode = { ...plan.primary, serviceName: EVENT_SOURCE };
  return { kind: 'QueryPlan', node: plan.rest ? { kind: 'Sequence', nodes: [eventFetch, plan.rest] } : eventFetch };
}
