import { afterEach, describe, expect, it } from 'vitest';
import { checkAuditMandatory } from '../audit_mandatory_guard.js';
import { createTempRepo, plantSampleOpenApi, type TempRepo } from '../lib/temp-repo.js';

const schema = `
type Query { me: User }
type User { id: ID! status: String! }
input AdminSuspendUserInput { userId: ID! reason: String! }
type Mutation {
  rename(name: String!): User!
  adminSuspendUser(input: AdminSuspendUserInput!): User!
}
`;

const resolverIndex = `
import { adminSuspendUser } from './admin-suspend-user.js';
export const Mutation = { rename: () => null, adminSuspendUser };
`;

const resolver = `
import { suspendUser } from '../../services/users.js';
export const adminSuspendUser = async (_: unknown, args: { input: { userId: string; reason: string } }, ctx: { actorId: string }) =>
  suspendUser(ctx.actorId, args.input.userId, args.input.reason);
`;

const auditedService = `
import { recordAudit } from '@gpuaas/db';
import { setStatus } from '../repositories/users.js';
export async function suspendUser(actorId: string, userId: string, reason: string) {
  return withTransaction(async (trx) => {
    const user = await setStatus(trx, userId, 'suspended');
    await recordAudit(trx, { domain: 'access', actorKind: 'user', actorId, action: 'user.suspend', targetType: 'user', targetId: userId, reason });
    return user;
  });
}
declare function withTransaction<T>(work: (trx: unknown) => Promise<T>): Promise<T>;
`;

const unauditedService = `
import { setStatus } from '../repositories/users.js';
export async function suspendUser(actorId: string, userId: string, reason: string) {
  return setStatus(undefined, userId, 'suspended');
}
`;

// an unrelated function that does audit must not excuse the one that does not
const otherAuditedService = `
import { recordAudit } from '@gpuaas/db';
export async function deleteUser(input: unknown) { await recordAudit(undefined as never, input as never); }
`;

const repository = 'export async function setStatus(trx: unknown, id: string, status: string) { return { id, status }; }\n';

let repo: TempRepo | undefined;
afterEach(() => repo?.remove());

function subgraph(service: string, files: Record<string, string> = {}) {
  repo = createTempRepo({
    'subgraphs/access/schema.graphql': schema,
    'subgraphs/access/src/resolvers/mutation/index.ts': resolverIndex,
    'subgraphs/access/src/resolvers/mutation/admin-suspend-user.ts': resolver,
    'subgraphs/access/src/services/users.ts': service,
    'subgraphs/access/src/services/other.ts': otherAuditedService,
    'subgraphs/access/src/repositories/users.ts': repository,
    ...files,
  });
  return repo;
}

describe('audit_mandatory_guard', () => {
  it('passes an admin mutation whose service writes an audit row', async () => {
    const result = await checkAuditMandatory({ root: subgraph(auditedService).root });
    expect(result.problems).toEqual([]);
  });

  it('fails an admin mutation that never calls recordAudit', async () => {
    const result = await checkAuditMandatory({ root: subgraph(unauditedService).root });
    expect(result.problems).toEqual([
      expect.stringMatching(/^subgraphs\/access: Mutation\.adminSuspendUser \(subgraphs\/access\/src\/resolvers\/mutation\/.*\): no recordAudit/),
    ]);
  });

  it('follows a service handed to the resolver through the context', async () => {
    const result = await checkAuditMandatory({
      root: subgraph(auditedService, {
        'subgraphs/access/src/resolvers/mutation/admin-suspend-user.ts':
          'export const adminSuspendUser = (_: unknown, args: { input: { userId: string } }, ctx: { services: { users: { suspendUser: Function } } }) => ctx.services.users.suspendUser(args.input.userId);\n',
      }).root,
    });
    expect(result.problems).toEqual([]);
  });

  it('reports a resolver that only throws NotImplemented as a note, not a failure', async () => {
    const result = await checkAuditMandatory({
      root: subgraph(unauditedService, {
        'subgraphs/access/src/resolvers/mutation/admin-suspend-user.ts':
          "import { NotImplemented } from '@gpuaas/errors';\nexport const adminSuspendUser = () => { throw NotImplemented('Mutation.adminSuspendUser'); };\n",
      }).root,
    });
    expect(result.problems).toEqual([]);
    expect(result.notes.join('\n')).toMatch(/Mutation\.adminSuspendUser .* is not implemented yet/);
  });

  it('fails an admin-only mutation that is not named admin*', async () => {
    const result = await checkAuditMandatory({
      root: subgraph(auditedService, {
        'subgraphs/access/schema.graphql': schema.replace('rename(name: String!): User!', '"Admin only: reset a password."\n  resetPassword(id: ID!): User!'),
      }).root,
    });
    expect(result.problems).toEqual([expect.stringContaining('Mutation.resetPassword is described as admin-only; name it adminResetPassword')]);
  });

  describe('REST admin mutations', () => {
    const viaGateway = `
const SUSPEND = \`mutation Suspend($input: AdminSuspendUserInput!) { adminSuspendUser(input: $input) { id status } }\`;
export const adminHandlers = {
  adminSuspendUser: async (ctx: { gateway: { execute(query: string, variables: unknown): Promise<unknown> }; params: { id: string } }) => {
    const data = await ctx.gateway.execute(SUSPEND, { input: { userId: ctx.params.id } });
    return { status: 200, body: data };
  },
};
`;

    it('passes a handler that sends the audited admin GraphQL mutation', async () => {
      const fixture = subgraph(auditedService, { 'rest-adapter/src/operations/admin/index.ts': viaGateway });
      plantSampleOpenApi(fixture);
      const result = await checkAuditMandatory({ root: fixture.root });
      expect(result.problems).toEqual([]);
    });

    it('fails a handler that changes state without an audited path', async () => {
      const fixture = subgraph(auditedService, {
        'rest-adapter/src/operations/admin/index.ts':
          "export const adminHandlers = { adminSuspendUser: async () => ({ status: 200, body: await fetchJson('/users/suspend') }) };\ndeclare function fetchJson(path: string): Promise<unknown>;\n",
      });
      plantSampleOpenApi(fixture);
      const result = await checkAuditMandatory({ root: fixture.root });
      expect(result.problems).toEqual([expect.stringContaining('REST POST /api/v1/admin/users/{id}/suspend (adminSuspendUser): its handler neither sends')]);
    });

    it('fails a handler whose GraphQL mutation is itself unaudited', async () => {
      const fixture = subgraph(unauditedService, { 'rest-adapter/src/operations/admin/index.ts': viaGateway });
      plantSampleOpenApi(fixture);
      const result = await checkAuditMandatory({ root: fixture.root });
      expect(result.problems).toHaveLength(2);
      expect(result.problems[1]).toContain('REST POST /api/v1/admin/users/{id}/suspend (adminSuspendUser)');
    });

    it('reads an operation document kept as a .graphql file beside the handler', async () => {
      const handler = `
declare function doc(name: string): string;
declare function send(document: string): Promise<unknown>;
export const adminHandlers = { adminSuspendUser: async () => ({ status: 200, body: await send(doc('admin-suspend-user')) }) };
`;
      const audited = subgraph(auditedService, {
        'rest-adapter/src/operations/admin/index.ts': handler,
        'rest-adapter/src/operations/admin/admin-suspend-user.graphql': 'mutation Suspend($input: AdminSuspendUserInput!) { adminSuspendUser(input: $input) { id } }\n',
      });
      plantSampleOpenApi(audited);
      expect((await checkAuditMandatory({ root: audited.root })).problems).toEqual([]);

      const elsewhere = subgraph(auditedService, {
        'rest-adapter/src/operations/admin/index.ts': handler,
        'rest-adapter/src/operations/admin/admin-suspend-user.graphql': 'query Peek { me { id } }\n',
      });
      plantSampleOpenApi(elsewhere);
      expect((await checkAuditMandatory({ root: elsewhere.root })).problems).toEqual([expect.stringContaining('(adminSuspendUser): its handler neither sends')]);
    });

    it('skips admin operations that have no handler yet', async () => {
      const fixture = subgraph(auditedService, { 'rest-adapter/src/operations/admin/index.ts': 'export const adminHandlers = {};\n' });
      plantSampleOpenApi(fixture);
      const result = await checkAuditMandatory({ root: fixture.root });
      expect(result.problems).toEqual([]);
    });
  });
});
