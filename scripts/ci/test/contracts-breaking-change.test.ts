import { afterEach, describe, expect, it } from 'vitest';
import { approvalsFile, checkBreakingChanges, releasedApiSchema, releasedOpenApi } from '../contracts_breaking_change.js';
import type { JsonObject } from '../lib/repo.js';
import { createTempRepo, plantSampleOpenApi, sampleOpenApiFragment, sampleOpenApiRoot, type TempRepo } from '../lib/temp-repo.js';

const releasedSdl = `
type Query { user(id: ID!): User }
type User { id: ID! email: String! nickname: String }
`;

let repo: TempRepo | undefined;
afterEach(() => repo?.remove());

/**
 * Releases the sample contracts, then lets `change` edit the current REST fragment and return the current SDL.
 * GraphQL-only cases release no REST contract, so optic (seconds per run) is not started for them.
 */
async function diffAfter(change: (fragment: JsonObject) => string | void, approvals: unknown[] = [], rest = true) {
  repo = createTempRepo();
  plantSampleOpenApi(repo);
  if (rest) repo.write(releasedOpenApi, repo.read('doc/api/openapi.yaml'));
  repo.write(releasedApiSchema, releasedSdl);
  const fragment = sampleOpenApiFragment();
  const currentSdl = change(fragment) ?? releasedSdl;
  plantSampleOpenApi(repo, fragment);
  repo.write(approvalsFile, JSON.stringify(approvals));
  return checkBreakingChanges({ root: repo.root, currentApiSchema: async () => currentSdl });
}

const paths = (fragment: JsonObject) => fragment['paths'] as Record<string, Record<string, unknown>>;
const schemas = (fragment: JsonObject) => (fragment['components'] as JsonObject)['schemas'] as Record<string, JsonObject>;

// optic takes a few seconds per run, more on a busy machine
describe('contracts_breaking_change', { timeout: 90_000 }, () => {
  it('passes when nothing changed since the release', async () => {
    const result = await diffAfter(() => {});
    expect(result.problems).toEqual([]);
  });

  it('fails when an operation is removed', async () => {
    const result = await diffAfter((f) => {
      delete paths(f)['/api/v1/admin/users/{id}/suspend'];
    });
    expect(result.problems.join('\n')).toMatch(/openapi breaking change: POST \/api\/v1\/admin\/users\/\{id\}\/suspend: removed.*\[prevent operation removal\]/);
  });

  it('fails when an optional request field becomes required', async () => {
    const result = await diffAfter((f) => {
      schemas(f)['UserInput']!['required'] = ['email', 'nickname'];
    });
    expect(result.problems.join('\n')).toMatch(/POST \/api\/v1\/users › request › .*nickname.*\[prevent changing request property to required\]/);
  });

  it('still checks when info.version gets a new major', async () => {
    repo = createTempRepo();
    plantSampleOpenApi(repo);
    repo.write(releasedOpenApi, repo.read('doc/api/openapi.yaml'));
    const root = sampleOpenApiRoot();
    (root['info'] as JsonObject)['version'] = '2.0.0';
    const fragment = sampleOpenApiFragment();
    delete paths(fragment)['/api/v1/users']!['post'];
    repo.write('doc/api/openapi/_root.yaml', root);
    repo.write('doc/api/openapi/users.yaml', fragment);
    repo.bundle('openapi');
    const result = await checkBreakingChanges({ root: repo.root });
    expect(result.problems).toContain(
      'openapi breaking change: POST /api/v1/users: removed: [prevent operation removal] cannot remove an operation. This is a breaking change.',
    );
  });

  it('fails when a GraphQL field is removed', async () => {
    const result = await diffAfter(() => releasedSdl.replace('nickname: String', ''), [], false);
    expect(result.problems).toContain("graphql breaking change: User.nickname: Field 'nickname' was removed from object type 'User'");
  });

  it('passes a breaking change that breaking-changes.yaml approves', async () => {
    const result = await diffAfter(
      (f) => {
        delete paths(f)['/api/v1/admin/users/{id}/suspend'];
        return releasedSdl.replace('nickname: String', '');
      },
      [
        { contract: 'openapi', match: 'POST /api/v1/admin/users/{id}/suspend', reason: 'moved to GraphQL', approved_by: 'lead' },
        { contract: 'graphql', match: 'User.nickname', reason: 'never filled', approved_by: 'lead' },
      ],
    );
    expect(result.problems).toEqual([]);
    expect(result.notes.join('\n')).toMatch(/approved graphql breaking change \(lead: never filled\): User\.nickname/);
  });

  it('does not let an approval for one contract excuse the other', async () => {
    const result = await diffAfter(() => releasedSdl.replace('nickname: String', ''), [
      { contract: 'openapi', match: 'User.nickname', reason: 'wrong contract', approved_by: 'lead' },
    ], false);
    expect(result.problems.join('\n')).toMatch(/graphql breaking change: User\.nickname/);
  });

  it('passes when optional fields are added', async () => {
    const result = await diffAfter((f) => {
      (schemas(f)['UserInput']!['properties'] as JsonObject)['locale'] = { type: 'string' };
      return releasedSdl.replace('nickname: String', 'nickname: String\n locale: String');
    });
    expect(result.problems).toEqual([]);
  });

  it('fails on an approval without a reason or approver', async () => {
    const result = await diffAfter(() => {}, [{ contract: 'graphql', match: 'User.email' }], false);
    expect(result.problems).toEqual([expect.stringMatching(/entry 1: needs contract \(openapi\|graphql\), match, reason and approved_by \(missing reason, approved_by\)/)]);
  });
});
