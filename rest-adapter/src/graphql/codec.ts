import {
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  typeFromAST,
  type GraphQLCompositeType,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { toCamelCase } from '../case-mapping.js';
import type { GraphqlDocument } from './documents.js';
import { graphqlEnumValue, restEnumValue } from './enum-values.js';

type Json = Record<string, unknown>;

/**
 * REST-side variables (snake_case keys, lower-case enum values) → GraphQL variables. Keys go through
 * case-mapping; enum values are found by the type each variable and input field has in the schema.
 */
export function encodeVariables(schema: GraphQLSchema, document: GraphqlDocument, variables: Json): Json {
  const camel = toCamelCase<Json>(variables);
  const encoded: Json = { ...camel };
  for (const definition of document.operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    if (type && name in camel) encoded[name] = encodeInput(type, camel[name]);
  }
  return encoded;
}

function encodeInput(type: GraphQLInputType, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) return encodeInput(type.ofType, value);
  if (isListType(type)) return Array.isArray(value) ? value.map((item) => encodeInput(type.ofType, item)) : encodeInput(type.ofType, value);
  if (isEnumType(type)) return typeof value === 'string' ? graphqlEnumValue(type.name, value) : value;
  if (isInputObjectType(type) && isJsonObject(value)) {
    const fields = type.getFields();
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fields[key] ? encodeInput(fields[key].type, inner) : inner]));
  }
  return value;
}

/**
 * GraphQL `data` → the same tree with REST enum values, walking the document's selections with their schema
 * types (aliases and fragments included). Keys stay camelCase: callers reshape first, then snake-case once.
 */
export function decodeData(schema: GraphQLSchema, document: GraphqlDocument, data: Json): Json {
  const root = schema.getRootType(document.operation.operation);
  if (!root) return data;
  return decodeObject(schema, document, root, [document.operation.selectionSet], data);
}

function decodeObject(schema: GraphQLSchema, document: GraphqlDocument, type: GraphQLCompositeType, selectionSets: readonly SelectionSetNode[], value: Json): Json {
  const runtime = isAbstractType(type) ? schema.getType(String(value['__typename'])) : type;
  // Without __typename an abstract value's fields cannot be typed; they pass through unchanged.
  if (!runtime || !isObjectType(runtime)) return value;
  const fields = runtime.getFields();
  const decoded: Json = { ...value };
  for (const [key, { fieldName, sets }] of collectFields(document, selectionSets)) {
    const field = fields[fieldName];
    if (field && key in value) decoded[key] = decodeValue(schema, document, field.type, sets, value[key]);
  }
  return decoded;
}

function decodeValue(schema: GraphQLSchema, document: GraphqlDocument, type: GraphQLOutputType, sets: readonly SelectionSetNode[], value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) return decodeValue(schema, document, type.ofType, sets, value);
  if (isListType(type)) return Array.isArray(value) ? value.map((item) => decodeValue(schema, document, type.ofType, sets, item)) : value;
  if (isEnumType(type)) return typeof value === 'string' ? restEnumValue(type.name, value) : value;
  if (isJsonObject(value) && (isObjectType(type) || isAbstractType(type))) return decodeObject(schema, document, type, sets, value);
  return value;
}

/** Response key → field name and every selection set asking for it (a key may be selected in several fragments). */
function collectFields(document: GraphqlDocument, selectionSets: readonly SelectionSetNode[]): Map<string, { fieldName: string; sets: SelectionSetNode[] }> {
  const collected = new Map<string, { fieldName: string; sets: SelectionSetNode[] }>();
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const entry = collected.get(key) ?? { fieldName: selection.name.value, sets: [] };
        if (selection.selectionSet) entry.sets.push(selection.selectionSet);
        collected.set(key, entry);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else {
        const fragment = document.fragments.get(selection.name.value);
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  for (const set of selectionSets) visit(set);
  return collected;
}

function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
