import { Kind, parse, type DocumentNode } from 'graphql';

/**
 * Federation 2 definitions a subgraph SDL uses without declaring (`@link` imports them at composition time).
 * Codegen builds a plain GraphQL schema, so they are prepended — only those the SDL does not define itself.
 */
const federationPrelude = parse(`
scalar link__Import
scalar federation__FieldSet
scalar federation__Scope
scalar federation__Policy
enum link__Purpose { SECURITY EXECUTION }
directive @link(url: String!, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @key(fields: federation__FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @requires(fields: federation__FieldSet!) on FIELD_DEFINITION
directive @provides(fields: federation__FieldSet!) on FIELD_DEFINITION
directive @external(reason: String) on OBJECT | FIELD_DEFINITION
directive @extends on OBJECT | INTERFACE
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA
directive @override(from: String!, label: String) on FIELD_DEFINITION
directive @composeDirective(name: String!) repeatable on SCHEMA
directive @interfaceObject on OBJECT
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @requiresScopes(scopes: [[federation__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @policy(policies: [[federation__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
`);

export function withFederationDefinitions(sdl: DocumentNode): DocumentNode {
  const defined = new Set<string>();
  for (const definition of sdl.definitions) {
    if ('name' in definition && definition.name) defined.add(`${definition.kind === Kind.DIRECTIVE_DEFINITION ? '@' : ''}${definition.name.value}`);
  }
  const missing = federationPrelude.definitions.filter((definition) => {
    if (!('name' in definition) || !definition.name) return false;
    return !defined.has(`${definition.kind === Kind.DIRECTIVE_DEFINITION ? '@' : ''}${definition.name.value}`);
  });
  return { ...sdl, definitions: [...missing, ...sdl.definitions] };
}
