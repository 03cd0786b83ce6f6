import { toSnakeCase } from '../case-mapping.js';
import { decodeData, encodeVariables } from '../graphql/codec.js';
import { toPage, pageArguments, type Connection } from '../graphql/connections.js';
import { loadDocument, type GraphqlDocument } from '../graphql/documents.js';
import { supergraphSchema } from '../graphql/schema.js';
import type { OperationContext, OperationHandler, OperationResult } from './registry.js';

type Json = Record<string, unknown>;

/** REST-side variables from the request: snake_case keys and REST enum values, as the contract spells them. */
export type VariablesOf = (ctx: OperationContext) => Json;

/** Decoded data (camelCase keys, REST enum values) → the REST answer; its body is snake-cased afterwards. */
export type Responder = (data: Json, ctx: OperationContext) => OperationResult;

export interface GraphqlOperationSpec {
  readonly document: GraphqlDocument;
  readonly variables?: VariablesOf;
  readonly respond: Responder;
}

/** A handler that runs one GraphQL document; the document is exposed so start-up can validate it against the schema. */
export type GraphqlHandler = OperationHandler & { readonly document: GraphqlDocument };

/**
 * The whole life of a REST operation served by GraphQL: request → variables (case and enums mapped by type) →
 * gateway → data (enums mapped back) → REST status and body (keys snake-cased in one step).
 */
export function graphqlOperation(spec: GraphqlOperationSpec): GraphqlHandler {
  const handler: OperationHandler = async (ctx) => {
    const schema = supergraphSchema();
    const variables = encodeVariables(schema, spec.document, spec.variables?.(ctx) ?? {});
    const data = decodeData(schema, spec.document, await ctx.graphql<Json>(spec.document, variables));
    const result = spec.respond(data, ctx);
    return result.body === undefined ? result : { ...result, body: toSnakeCase(result.body) };
  };
  return Object.assign(handler, { document: spec.document });
}

export function isGraphqlHandler(handler: OperationHandler | undefined): handler is GraphqlHandler {
  return typeof handler === 'function' && 'document' in handler;
}

/** `const doc = documentsBeside(import.meta.url); doc('get-me')` reads `./get-me.graphql` next to that module. */
export function documentsBeside(moduleUrl: string): (name: string) => GraphqlDocument {
  return (name) => loadDocument(new URL(`./${name}.graphql`, moduleUrl));
}

// Variables: the usual ways a REST request names a GraphQL operation's arguments.

/** The body as the mutation's `input`, with path parameters merged in under the names given (`{ id: 'id' }`). */
export const inputFrom =
  (pathParameters: Readonly<Record<string, string>> = {}): VariablesOf =>
  (ctx) => ({
    input: {
      ...(isJson(ctx.body) ? ctx.body : {}),
      ...Object.fromEntries(Object.entries(pathParameters).map(([name, parameter]) => [name, ctx.params[parameter]])),
    },
  });

/** `{ id }` from the path. */
export const byId: VariablesOf = (ctx) => ({ id: ctx.params['id'] });

/** `first`/`after` from `limit`/`cursor`, plus the named query parameters as they are. */
export const pageQuery =
  (...filters: readonly string[]): VariablesOf =>
  (ctx) => ({ ...pageArguments(ctx.query), ...pick(ctx.query, filters) });

// Responders: what each kind of result answers.

/** The root field's value with `status` (200 unless a create answers 201). */
export const field =
  (name: string, status = 200): Responder =>
  (data) => ({ status, body: data[name] });

/** A Relay connection at `path` (root field first) as `{data, next_cursor}`. */
export const page =
  (...path: readonly string[]): Responder =>
  (data) => ({ status: 200, body: toPage(at(data, path) as Connection<unknown>) });

/** A mutation answering only whether it happened: the contract answers 204 without a body. */
export const noContent: Responder = () => ({ status: 204 });

export function pick(source: Readonly<Record<string, unknown>>, names: readonly string[]): Json {
  return Object.fromEntries(names.filter((name) => source[name] !== undefined).map((name) => [name, source[name]]));
}

function at(data: Json, path: readonly string[]): unknown {
  return path.reduce<unknown>((value, key) => (isJson(value) ? value[key] : undefined), data);
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
