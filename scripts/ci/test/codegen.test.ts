import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAll } from '../../codegen.js';
import { checkCodegenFresh } from '../codegen_fresh.js';
import { writeFiles, type GeneratedFile } from '../lib/generated-files.js';
import { createTempRepo, plantSampleOpenApi, sampleAsyncApiFragment, sampleAsyncApiRoot, type TempRepo } from '../lib/temp-repo.js';

const accessSdl = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
type Query { me: User }
type User @key(fields: "id") { id: ID! email: String! }
enum UserStatus { ACTIVE SUSPENDED }
input AdminSuspendUserInput { userId: ID! }
type Mutation { adminSuspendUser(input: AdminSuspendUserInput!): User! }
`;

const billingSdl = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type User @key(fields: "id", resolvable: false) { id: ID! }
type Wallet @key(fields: "id") { id: ID! owner: User! }
type Query { wallet: Wallet }
`;

let repo: TempRepo;
let first: GeneratedFile[];
const byPath = (files: readonly GeneratedFile[], path: string) => files.find((f) => f.path === path)?.content ?? '';

beforeAll(async () => {
  repo = createTempRepo({
    'doc/api/asyncapi/_root.yaml': sampleAsyncApiRoot(),
    'doc/api/asyncapi/access.yaml': sampleAsyncApiFragment(),
    'subgraphs/access/schema.graphql': accessSdl,
    'subgraphs/billing/schema.graphql': billingSdl,
  });
  plantSampleOpenApi(repo);
  first = (await generateAll({ root: repo.root })).files;
});
afterAll(() => repo.remove());

describe('codegen', { timeout: 60_000 }, () => {
  it('renders every artefact from the contracts', () => {
    expect(first.map((f) => f.path).sort()).toEqual([
      'doc/api/API_Surface.md',
      'doc/api/asyncapi.yaml',
      'doc/api/openapi.yaml',
      'doc/errors.md',
      'doc/nats-subjects.md',
      'doc/policies.md',
      'gateway/supergraph.graphql',
      'packages/contracts/src/generated/events.ts',
      'packages/contracts/src/generated/openapi.ts',
      'subgraphs/access/src/generated/resolvers-types.ts',
      'subgraphs/billing/src/generated/resolvers-types.ts',
    ]);
  });

  it('types REST operations, event payloads with their subjects and streams, and subgraph resolvers', () => {
    expect(byPath(first, 'packages/contracts/src/generated/openapi.ts')).toMatch(/listUsers: \{/);
    const events = byPath(first, 'packages/contracts/src/generated/events.ts');
    expect(events).toContain("'access.user_suspended': UserSuspendedPayload;");
    expect(events).toMatch(/export interface UserSuspendedPayload \{\n\s+user_id: string;\n\s+reason: string;\n\}/);
    expect(events).toContain("export const eventSubjects = [\n  'access.user_suspended',\n] as const");
    expect(events).toContain("'access.user_suspended': 'ACCESS',");
    expect(events).toContain("'dlq.{subject}': DeadLetterPayload;");
    const resolvers = byPath(first, 'subgraphs/access/src/generated/resolvers-types.ts');
    expect(resolvers).toContain('adminSuspendUser?: Resolver<');
    expect(resolvers).toContain('__resolveReference?: ReferenceResolver<');
    expect(byPath(first, 'gateway/supergraph.graphql')).toMatch(/join__Graph/);
  });

  it('is byte-stable: a second run renders identical files', async () => {
    const second = (await generateAll({ root: repo.root })).files;
    expect(second).toEqual(first);
  });

  it('codegen_fresh fails listing each stale file, and passes once the output is written', async () => {
    const before = await checkCodegenFresh({ root: repo.root });
    expect(before.problems).toContain('packages/contracts/src/generated/events.ts is stale: run `npm run codegen` and commit the result');
    expect(before.problems).toHaveLength(first.length - 1); // doc/api/openapi.yaml was bundled by the fixture

    writeFiles(repo.root, first);
    expect((await checkCodegenFresh({ root: repo.root })).problems).toEqual([]);

    repo.write('subgraphs/billing/schema.graphql', billingSdl.replace('type Query { wallet: Wallet }', 'type Query { wallet: Wallet, wallets: [Wallet!]! }'));
    const after = await checkCodegenFresh({ root: repo.root });
    expect(after.problems).toEqual([
      'subgraphs/billing/src/generated/resolvers-types.ts is stale: run `npm run codegen` and commit the result',
      'gateway/supergraph.graphql is stale: run `npm run codegen` and commit the result',
    ]);
  });

  it('codegen_fresh reports a contract that cannot be generated instead of crashing', async () => {
    const broken = createTempRepo({ 'subgraphs/access/schema.graphql': 'type Query { me: User' });
    try {
      const result = await checkCodegenFresh({ root: broken.root });
      expect(result.problems).toEqual([expect.stringMatching(/^the codegen failed: subgraphs\/access\/schema\.graphql: Syntax Error/)]);
    } finally {
      broken.remove();
    }
  });
});
