import { afterEach, describe, expect, it } from 'vitest';
import { validateContracts } from '../contracts_validate.js';
import { isObject, type JsonObject } from '../lib/repo.js';
import {
  createTempRepo,
  plantSampleAsyncApi,
  plantSampleOpenApi,
  sampleAsyncApiFragment,
  sampleOpenApiFragment,
  withRepoRedoclyConfig,
  type TempRepo,
} from '../lib/temp-repo.js';

let repo: TempRepo | undefined;
afterEach(() => repo?.remove());

/** A fixture repo whose contracts are the samples after `plant` changed a fragment; bundles are rebuilt (fresh). */
async function validateWith(plant: (fragment: JsonObject) => void, plantEvents: (fragment: JsonObject) => void = () => {}) {
  repo = createTempRepo();
  withRepoRedoclyConfig(repo);
  const fragment = sampleOpenApiFragment();
  plant(fragment);
  plantSampleOpenApi(repo, fragment);
  const events = sampleAsyncApiFragment();
  plantEvents(events);
  plantSampleAsyncApi(repo, events);
  return validateContracts({ root: repo.root });
}

function at(fragment: JsonObject, path: string, method: string): JsonObject {
  const paths = fragment['paths'] as Record<string, Record<string, JsonObject>>;
  return paths[path]![method]!;
}

function schema(fragment: JsonObject, name: string): JsonObject {
  return ((fragment['components'] as JsonObject)['schemas'] as Record<string, JsonObject>)[name]!;
}

describe('contracts_validate', () => {
  it('passes a contract that follows every rule', async () => {
    const result = await validateWith(() => {});
    expect(result.problems).toEqual([]);
  });

  it('fails when the bundle is stale', async () => {
    repo = createTempRepo();
    withRepoRedoclyConfig(repo);
    plantSampleOpenApi(repo);
    const fragment = sampleOpenApiFragment();
    at(fragment, '/api/v1/users', 'get')['summary'] = 'List all users';
    repo.write('doc/api/openapi/users.yaml', fragment);
    const result = await validateContracts({ root: repo.root });
    expect(result.problems).toEqual([expect.stringContaining('doc/api/openapi.yaml is stale')]);
  });

  it('fails on a Redocly error such as an unresolved $ref', async () => {
    const result = await validateWith((f) => {
      schema(f, 'User')['properties'] = { id: { $ref: '#/components/schemas/Missing' } };
      schema(f, 'User')['required'] = ['id'];
    });
    expect(result.problems.join('\n')).toMatch(/\[no-unresolved-refs\]/);
  });

  it('fails on an example that does not match its schema', async () => {
    const result = await validateWith((f) => {
      const content = (at(f, '/api/v1/users', 'post')['requestBody'] as JsonObject)['content'] as Record<string, JsonObject>;
      content['application/json']!['example'] = { email: 42 };
    });
    expect(result.problems.join('\n')).toMatch(/\[no-invalid-media-type-examples\]/);
  });

  it('fails when an operation has no domain tag', async () => {
    const result = await validateWith((f) => {
      at(f, '/api/v1/users', 'get')['tags'] = ['misc'];
    });
    expect(result.problems.join('\n')).toMatch(/GET \/api\/v1\/users \(listUsers\): needs one of the domain tags/);
  });

  it('fails when a mutation does not accept X-Idempotency-Key', async () => {
    const result = await validateWith((f) => {
      at(f, '/api/v1/users', 'post')['parameters'] = [];
    });
    expect(result.problems.join('\n')).toMatch(/POST \/api\/v1\/users \(createUser\): a mutation must accept X-Idempotency-Key/);
  });

  it('fails when an error response does not use ErrorResponse', async () => {
    const result = await validateWith((f) => {
      const responses = at(f, '/api/v1/users', 'post')['responses'] as JsonObject;
      responses['409'] = {
        description: 'Conflict.',
        content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'string' } } }, example: { error: 'x' } } },
      };
    });
    expect(result.problems.join('\n')).toMatch(/createUser\): response 409 \(application\/json\) must use \$ref '#\/components\/schemas\/ErrorResponse'/);
  });

  it('fails when a list operation lacks cursor and limit', async () => {
    const result = await validateWith((f) => {
      at(f, '/api/v1/users', 'get')['parameters'] = [];
    });
    expect(result.problems.join('\n')).toMatch(/listUsers\): a list operation needs query parameters cursor and limit/);
  });

  it('fails when a money field is a float', async () => {
    const result = await validateWith((f) => {
      const properties = schema(f, 'User')['properties'];
      if (isObject(properties)) properties['balance'] = { type: 'number' };
    });
    expect(result.problems.join('\n')).toMatch(/components\.schemas\.User\.balance: money must not be a number/);
  });

  it('fails when an integer money field does not say it is in minor units', async () => {
    const result = await validateWith((f) => {
      const properties = schema(f, 'UserInput')['properties'];
      if (isObject(properties)) properties['price'] = { type: 'integer' };
    });
    expect(result.problems.join('\n')).toMatch(/components\.schemas\.UserInput\.price: an integer money field must be named `\*_minor`/);
  });

  it('fails when an event operation does not name its service', async () => {
    const result = await validateWith(
      () => {},
      (f) => {
        delete ((f['operations'] as JsonObject)['mailerReceivesUserSuspended'] as JsonObject)['x-service'];
      },
    );
    expect(result.problems).toEqual(['doc/api/asyncapi.yaml: operation mailerReceivesUserSuspended: needs x-service (the deployable that consumes it)']);
  });

  it('fails when an event channel does not name its stream', async () => {
    const result = await validateWith(
      () => {},
      (f) => {
        delete ((f['channels'] as JsonObject)['userSuspended'] as JsonObject)['x-stream'];
      },
    );
    expect(result.problems).toEqual(['doc/api/asyncapi.yaml: channel userSuspended (access.user_suspended): needs x-stream (the JetStream stream that stores it)']);
  });

  it('fails on a Redocly error in the AsyncAPI', async () => {
    const result = await validateWith(
      () => {},
      (f) => {
        ((f['channels'] as JsonObject)['userSuspended'] as JsonObject)['messages'] = { UserSuspended: { $ref: '#/components/messages/Missing' } };
      },
    );
    expect(result.problems.join('\n')).toMatch(/doc\/api\/asyncapi\.yaml:\d+:\d+ \[no-unresolved-refs\]/);
  });
});
