import { isEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { dereference } from '../src/contract/dereference.js';
import { loadContract } from '../src/contract/load-contract.js';
import { decodeData, encodeVariables } from '../src/graphql/codec.js';
import { pageArguments, toPage } from '../src/graphql/connections.js';
import { parseDocument } from '../src/graphql/documents.js';
import { graphqlEnumValue, restEnumValue } from '../src/graphql/enum-values.js';
import { supergraphSchema } from '../src/graphql/schema.js';
import { assertDocumentsMatchSchema } from '../src/graphql/validate-documents.js';
import { graphqlOperation, isGraphqlHandler } from '../src/operations/graphql-operation.js';
import { createOperationRegistry, defaultOperationRegistry, type OperationId } from '../src/operations/registry.js';
import { v3Me, v3Project } from '../src/operations/v3-access/read-models.js';
import { connection } from './support/access-fixtures.js';

const schema = supergraphSchema();

describe('enum values', () => {
  it('lower-cases GraphQL values for REST and upper-cases them back', () => {
    expect(restEnumValue('UserRole', 'ADMIN')).toBe('admin');
    expect(restEnumValue('UserStatus', 'SUSPENDED')).toBe('suspended');
    expect(graphqlEnumValue('ProjectRole', 'viewer')).toBe('VIEWER');
  });

  it('keeps the hyphens of SSH key algorithm names', () => {
    expect(restEnumValue('SshKeyAlgorithm', 'ECDSA_SHA2_NISTP521')).toBe('ecdsa-sha2-nistp521');
    expect(graphqlEnumValue('SshKeyAlgorithm', 'ssh-ed25519')).toBe('SSH_ED25519');
  });

  /** GraphQL enum → where the REST contract lists the same values. */
  const restEnumOf: Record<string, (schemas: Record<string, { enum?: string[]; properties?: Record<string, { enum?: string[] }> }>) => string[] | undefined> = {
    UserRole: (s) => s['AccessUserRole']?.enum,
    UserStatus: (s) => s['AccessUserStatus']?.enum,
    ProjectRole: (s) => s['ProjectRole']?.enum,
    SshKeyAlgorithm: (s) => s['SshKeyAlgorithm']?.enum,
    AuthMethodType: (s) => s['AccessAuthMethod']?.properties?.['type']?.enum,
  };

  const schemas = (dereference(loadContract().document) as unknown as { components: { schemas: Parameters<(typeof restEnumOf)[string]>[0] } }).components.schemas;

  it.each(Object.keys(restEnumOf).map((name) => [name] as const))('maps every %s value onto exactly the REST contract values, both ways', (name) => {
    const type = schema.getType(name);
    if (!isEnumType(type)) throw new Error(`${name} is not an enum of the supergraph`);
    const graphqlValues = type.getValues().map((value) => value.name);
    const restValues = restEnumOf[name]!(schemas);

    expect(graphqlValues.map((value) => restEnumValue(name, value)).sort()).toEqual([...(restValues ?? [])].sort());
    expect(restValues!.map((value) => graphqlEnumValue(name, value)).sort()).toEqual([...graphqlValues].sort());
  });
});

describe('the GraphQL codec', () => {
  const document = parseDocument(`
    query Sample($filter: UserFilter, $role: ProjectRole) {
      adminUsers(filter: $filter) { edges { node { ...Basics boss: role authMethods { type } } } pageInfo { hasNextPage } }
      projects(role: $role) { edges { node { ... on Project { myRole members { edges { node { role displayName } } } } } } }
    }
    fragment Basics on User { status displayName }
  `);

  it('maps enum values in results by their schema type, through aliases, fragments, lists and connections', () => {
    const data = {
      adminUsers: {
        edges: [{ node: { status: 'SUSPENDED', displayName: 'ADMIN', boss: 'ADMIN', authMethods: [{ type: 'OIDC' }, { type: 'PASSWORD' }] } }],
        pageInfo: { hasNextPage: false },
      },
      projects: { edges: [{ node: { myRole: 'VIEWER', members: { edges: [{ node: { role: 'OWNER', displayName: 'OWNER' } }] } } }] },
    };

    expect(decodeData(schema, document, data)).toEqual({
      adminUsers: {
        edges: [{ node: { status: 'suspended', displayName: 'ADMIN', boss: 'admin', authMethods: [{ type: 'oidc' }, { type: 'password' }] } }],
        pageInfo: { hasNextPage: false },
      },
      projects: { edges: [{ node: { myRole: 'viewer', members: { edges: [{ node: { role: 'owner', displayName: 'OWNER' } }] } } }] },
    });
  });

  it('leaves nulls alone', () => {
    const data = { adminUsers: null, projects: { edges: [{ node: { myRole: null, members: null } }] } };
    expect(decodeData(schema, document, data)).toEqual(data);
  });

  it('camel-cases variables and maps enum values by the variable and input field types, leaving free text alone', () => {
    const variables = encodeVariables(schema, document, { filter: { status: 'suspended', role: 'admin', q: 'admin', created_after: '2026-01-01T00:00:00Z' }, role: 'owner' });

    expect(variables).toEqual({ filter: { status: 'SUSPENDED', role: 'ADMIN', q: 'admin', createdAfter: '2026-01-01T00:00:00Z' }, role: 'OWNER' });
  });

  it('keeps hyphens out of GraphQL enum values in inputs', () => {
    const ssh = parseDocument('query Keys($a: [SshKeyAlgorithm!]) { __typename }');
    expect(encodeVariables(schema, ssh, { a: ['ssh-rsa', 'ecdsa-sha2-nistp384'] })).toEqual({ a: ['SSH_RSA', 'ECDSA_SHA2_NISTP384'] });
  });
});

describe('connections', () => {
  it('give their nodes as data and the end cursor only while there is a next page', () => {
    expect(toPage(connection(['a', 'b'], true))).toEqual({ data: ['a', 'b'], nextCursor: 'cursor-1' });
    expect(toPage(connection(['a', 'b'], false))).toEqual({ data: ['a', 'b'], nextCursor: null });
    expect(toPage(connection([], false))).toEqual({ data: [], nextCursor: null });
  });

  it('take first/after from limit/cursor', () => {
    expect(pageArguments({ limit: 20, cursor: 'abc', other: 1 })).toEqual({ first: 20, after: 'abc' });
  });
});

describe('documents', () => {
  it('pull in the shared fragments they spread, and the fragments those spread', () => {
    const document = parseDocument('query Admin { adminUser(id: "x") { ...AdminUserFields } }');

    expect([...document.fragments.keys()].sort()).toEqual(['AccessUserFields', 'AdminUserFields']);
    expect(document.source).toMatch(/^query Admin/);
    expect(document.source).toContain('fragment AccessUserFields on User');
  });

  it('must hold exactly one named operation and define every fragment they spread', () => {
    expect(() => parseDocument('{ me { id } }')).toThrow(/one named operation/);
    expect(() => parseDocument('query A { me { id } } query B { me { id } }')).toThrow(/one named operation/);
    expect(() => parseDocument('query A { me { ...NoSuchFragment } }')).toThrow(/NoSuchFragment/);
  });

  it('of every handler the adapter serves are valid against the supergraph', () => {
    const registry = defaultOperationRegistry();
    const graphqlHandlers = registry.operationIds().filter((id) => isGraphqlHandler(registry.get(id)));

    expect(graphqlHandlers.length).toBe(registry.operationIds().length);
    expect(() => assertDocumentsMatchSchema(registry)).not.toThrow();
  });

  it('that do not match the supergraph stop the adapter from starting, naming the operation and the field', () => {
    const broken = graphqlOperation({ document: parseDocument('query Broken { me { shoeSize } }'), respond: () => ({ status: 200 }) });
    const registry = createOperationRegistry({ ['getMe' as OperationId]: broken });

    expect(() => assertDocumentsMatchSchema(registry)).toThrow(/getMe \(Broken\): Cannot query field "shoeSize"/);
  });
});

describe('the v3 read models', () => {
  it('inline a project\'s members, say whether the list is cut short, and leave other domains\' fields null', () => {
    const project = { id: 'p', memberCount: 3, members: connection([{ userId: 'a' }, { userId: 'b' }]) };

    expect(v3Project(project)).toEqual({
      id: 'p',
      memberCount: 3,
      members: [{ userId: 'a' }, { userId: 'b' }],
      membersTruncated: true,
      liveAllocationCount: null,
      balance: null,
      runwaySeconds: null,
      lowBalance: null,
    });
  });

  it('inline the caller\'s projects, the personal one first, and say when more exist', () => {
    const projects = connection([{ id: 'newest', personal: false }, { id: 'mine', personal: true }, { id: 'older', personal: false }], true);

    expect(v3Me({ id: 'u', projects })).toEqual({
      id: 'u',
      projects: [
        { id: 'mine', personal: true },
        { id: 'newest', personal: false },
        { id: 'older', personal: false },
      ],
      projectsTruncated: true,
    });
  });
});
