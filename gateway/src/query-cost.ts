import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { AppError } from '@gpuaas/errors';

/** Items a list is assumed to return when the operation does not say (`first`/`last` absent). */
export const DEFAULT_LIST_SIZE = 50;
const PAGE_ARGUMENTS = ['first', 'last'] as const;

/**
 * A static cost for one operation: every field costs 1, and what is selected under a list is counted once per item
 * it may return — the `first`/`last` argument when given (literal or variable), else DEFAULT_LIST_SIZE. A Relay
 * connection is counted once, on the field that takes `first`; its `edges` list is not multiplied again.
 * Introspection fields are free (introspection is off in production).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variableDefaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) variableDefaults.set(definition.variable.name.value, valueFromASTUntyped(definition.defaultValue));
  }
  const argumentValue = (field: FieldNode, name: string): unknown => {
    const argument = field.arguments?.find((candidate) => candidate.name.value === name);
    if (!argument) return undefined;
    if (argument.value.kind === Kind.VARIABLE) {
      const variable = argument.value.name.value;
      return variable in variables ? variables[variable] : variableDefaults.get(variable);
    }
    return valueFromASTUntyped(argument.value);
  };

  const pageSize = (field: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined => {
    const declared = PAGE_ARGUMENTS.filter((name) => definition.args.some((arg) => arg.name === name));
    if (declared.length === 0) return undefined;
    for (const name of declared) {
      const value = argumentValue(field, name);
      if (typeof value === 'number' && Number.isInteger(value)) return Math.max(0, value);
    }
    return DEFAULT_LIST_SIZE;
  };

  // A fragment's cost depends only on whether it sits directly under a paginated field; memoised per both, and a
  // spread already being measured counts 0 so fragment cycles (which validation rejects anyway) cannot loop.
  const fragmentCost = new Map<string, number>();
  const measuring = new Set<string>();

  const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, underPage: boolean): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total += fieldCost(selection, parent, underPage);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        total += selectionCost(selection.selectionSet, type ?? undefined, underPage);
      } else {
        const name = selection.name.value;
        const key = `${name}:${underPage}`;
        const known = fragmentCost.get(key);
        if (known !== undefined) {
          total += known;
          continue;
        }
        const fragment = fragments.get(name);
        if (!fragment || measuring.has(key)) continue;
        measuring.add(key);
        const cost = selectionCost(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined, underPage);
        measuring.delete(key);
        fragmentCost.set(key, cost);
        total += cost;
      }
    }
    return total;
  };

  const fieldCost = (field: FieldNode, parent: GraphQLNamedType | undefined, underPage: boolean): number => {
    if (field.name.value.startsWith('__')) return 0;
    const definition = fieldsOf(parent)?.[field.name.value];
    if (!definition) return 1;
    const page = pageSize(field, definition);
    const list = isList(definition.type);
    const items = page ?? (list && !underPage ? DEFAULT_LIST_SIZE : 1);
    // Under a paginated connection (an object, not a list) the `edges` list is already counted by the page size.
    const children = field.selectionSet ? selectionCost(field.selectionSet, namedTypeOf(definition.type), page !== undefined && !list) : 0;
    return 1 + items * children;
  };

  const root = schema.getRootType(operation.operation);
  return selectionCost(operation.selectionSet, root ?? undefined, false);
}

// The gateway's schema is built by federation with graphql's CommonJS build while this module loads the ESM one,
// so graphql's `instanceof`-based predicates throw here; the types are recognised by their toStringTag instead.
function kindOf(type: unknown): string {
  return Object.prototype.toString.call(type).slice(8, -1);
}

function isList(type: GraphQLOutputType): boolean {
  const nullable = kindOf(type) === 'GraphQLNonNull' ? (type as { ofType: GraphQLOutputType }).ofType : type;
  return kindOf(nullable) === 'GraphQLList';
}

function namedTypeOf(type: GraphQLOutputType): GraphQLNamedType {
  let current: unknown = type;
  while (kindOf(current) === 'GraphQLNonNull' || kindOf(current) === 'GraphQLList') current = (current as { ofType: unknown }).ofType;
  return current as GraphQLNamedType;
}

function fieldsOf(type: GraphQLNamedType | undefined): Record<string, GraphQLField<unknown, unknown>> | undefined {
  const kind = kindOf(type);
  if (kind !== 'GraphQLObjectType' && kind !== 'GraphQLInterfaceType') return undefined;
  return (type as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields();
}

/**
 * Refuses operations whose static cost exceeds `maxCost` with `query_too_complex` before any subgraph is called.
 * A plugin rather than a validation rule because `first: $n` needs the request's variables.
 */
export function queryCostPlugin<Context extends BaseContext>(maxCost: number): ApolloServerPlugin<Context> {
  // Apollo hands back the same parsed document for a repeated query string, so an operation without variables is
  // measured once; with variables `first: $n` may differ per request and is measured every time.
  const staticCosts = new WeakMap<OperationDefinitionNode, number>();
  const costOf = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>) => {
    if (operation.variableDefinitions?.length) return operationCost(schema, document, operation, variables);
    let cost = staticCosts.get(operation);
    if (cost === undefined) {
      cost = operationCost(schema, document, operation);
      staticCosts.set(operation, cost);
    }
    return cost;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          // Apollo resolves the operation before this hook; a document without one never gets here.
          if (!operation) return;
          const cost = costOf(schema, document, operation, request.variables ?? {});
          if (cost <= maxCost) return;
          const message = `The operation costs ${cost}; at most ${maxCost} is allowed`;
          throw new GraphQLError(message, {
            nodes: [operation],
            originalError: new AppError('query_too_complex', message, { max_cost: maxCost, cost }),
            extensions: { code: 'query_too_complex', http: { status: 400 } },
          });
        },
      };
    },
  };
}
