import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

type JsonObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function literalValue(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literalValue);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literalValue(field.value)]));
    default:
      throw new GraphQLError('JSONObject literals may not use variables inside', { extensions: { code: 'validation_error' } });
  }
}

/** A JSON object (never an array or a primitive): node labels, task payloads. */
export const jsonObjectScalar = new GraphQLScalarType<JsonObject, JsonObject>({
  name: 'JSONObject',
  description: 'A JSON object.',
  serialize(value) {
    if (!isPlainObject(value)) throw new GraphQLError('JSONObject cannot represent a non-object value', { extensions: { code: 'validation_error' } });
    return value;
  },
  parseValue(value) {
    if (!isPlainObject(value)) throw new GraphQLError('JSONObject must be an object', { extensions: { code: 'validation_error' } });
    return value;
  },
  parseLiteral(ast) {
    const value = literalValue(ast);
    if (!isPlainObject(value)) throw new GraphQLError('JSONObject must be an object', { extensions: { code: 'validation_error' } });
    return value;
  },
});
