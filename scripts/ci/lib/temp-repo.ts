import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { bundle, render } from '../../bundle-contracts.js';
import { toolsRoot, type JsonObject } from './repo.js';

/** A throw-away repository layout for gate tests: plant files, run a gate on `root`, then remove it. */
export interface TempRepo {
  readonly root: string;
  write(path: string, content: string | JsonObject): void;
  read(path: string): string;
  /** Bundles doc/api/<kind>/ into doc/api/<kind>.yaml, as `npm run codegen` would. */
  bundle(kind: 'openapi' | 'asyncapi'): void;
  remove(): void;
}

export function createTempRepo(files: Record<string, string | JsonObject> = {}): TempRepo {
  const root = mkdtempSync(join(tmpdir(), 'gpuaas-gate-'));
  const repo: TempRepo = {
    root,
    write(path, content) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), typeof content === 'string' ? content : stringify(content, { lineWidth: 0 }));
    },
    read: (path) => readFileSync(join(root, path), 'utf8'),
    bundle(kind) {
      writeFileSync(join(root, 'doc/api', `${kind}.yaml`), render(bundle(kind, join(root, 'doc/api', kind))));
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  for (const [path, content] of Object.entries(files)) repo.write(path, content);
  return repo;
}

/** Copies the real redocly.yaml so the lint in a test uses the committed ruleset. */
export function withRepoRedoclyConfig(repo: TempRepo): void {
  copyFileSync(join(toolsRoot, 'redocly.yaml'), join(repo.root, 'redocly.yaml'));
}

const errorResponse = (description: string, code: string): JsonObject => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' }, example: { code, message: description, correlation_id: 'c-1' } } },
});

/** A small REST contract root that follows every house rule: tags, security, shared parameters and errors. */
export function sampleOpenApiRoot(): JsonObject {
  return {
    openapi: '3.1.0',
    info: { title: 'Fixture API', version: '1.0.0', license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    servers: [{ url: 'http://127.0.0.1:4000' }],
    security: [{ userBearer: [] }],
    tags: [
      { name: 'access', description: 'Users.' },
      { name: 'admin', description: 'Operators.' },
      { name: 'billing', description: 'Money.' },
    ],
    components: {
      securitySchemes: { userBearer: { type: 'http', scheme: 'bearer' } },
      parameters: {
        IdempotencyKey: { name: 'X-Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } },
        Cursor: { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
        Limit: { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200 } },
      },
      schemas: {
        ErrorResponse: {
          type: 'object',
          additionalProperties: false,
          required: ['code', 'message', 'correlation_id'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, correlation_id: { type: 'string' }, details: { type: 'object' } },
        },
        Money: {
          type: 'object',
          additionalProperties: false,
          required: ['amount_minor', 'currency'],
          properties: { amount_minor: { type: 'integer' }, currency: { type: 'string' } },
        },
      },
      responses: {
        ValidationError: errorResponse('The request is invalid', 'validation_error'),
        NotFound: errorResponse('Not found', 'not_found'),
        InternalError: errorResponse('Unexpected failure', 'internal_error'),
      },
    },
  };
}

/** A fragment with one list (GET) and one mutation (POST) on users, written the way the house rules want. */
export function sampleOpenApiFragment(): JsonObject {
  const errors = {
    '400': { $ref: '#/components/responses/ValidationError' },
    '500': { $ref: '#/components/responses/InternalError' },
    default: { $ref: '#/components/responses/InternalError' },
  };
  const user = { id: 'u-1', email: 'a@example.org', credit: { amount_minor: 100, currency: 'USD' } };
  return {
    paths: {
      '/api/v1/users': {
        get: {
          operationId: 'listUsers',
          tags: ['access'],
          summary: 'List users',
          parameters: [{ $ref: '#/components/parameters/Cursor' }, { $ref: '#/components/parameters/Limit' }],
          responses: {
            '200': {
              description: 'A page of users.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/UserPage' }, example: { data: [user], next_cursor: null } } },
            },
            ...errors,
          },
        },
        post: {
          operationId: 'createUser',
          tags: ['access'],
          summary: 'Create a user',
          parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/UserInput' }, example: { email: 'a@example.org' } } },
          },
          responses: {
            '201': { description: 'Created.', content: { 'application/json': { schema: { $ref: '#/components/schemas/User' }, example: user } } },
            ...errors,
          },
        },
      },
      '/api/v1/admin/users/{id}/suspend': {
        post: {
          operationId: 'adminSuspendUser',
          tags: ['admin', 'access'],
          summary: 'Suspend a user',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { $ref: '#/components/parameters/IdempotencyKey' }],
          responses: {
            '200': { description: 'Suspended.', content: { 'application/json': { schema: { $ref: '#/components/schemas/User' }, example: user } } },
            '404': { $ref: '#/components/responses/NotFound' },
            ...errors,
          },
        },
      },
    },
    components: {
      schemas: {
        User: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'email', 'credit'],
          properties: { id: { type: 'string' }, email: { type: 'string' }, credit: { $ref: '#/components/schemas/Money' } },
        },
        UserInput: {
          type: 'object',
          additionalProperties: false,
          required: ['email'],
          properties: { email: { type: 'string' }, nickname: { type: 'string' } },
        },
        UserPage: {
          type: 'object',
          additionalProperties: false,
          required: ['data', 'next_cursor'],
          properties: { data: { type: 'array', items: { $ref: '#/components/schemas/User' } }, next_cursor: { type: ['string', 'null'] } },
        },
      },
    },
  };
}

/** Writes the sample REST contract (root + one fragment) and its bundle. */
export function plantSampleOpenApi(repo: TempRepo, fragment: JsonObject = sampleOpenApiFragment()): void {
  repo.write('doc/api/openapi/_root.yaml', sampleOpenApiRoot());
  repo.write('doc/api/openapi/users.yaml', fragment);
  repo.bundle('openapi');
}

/** A small event contract: one subject with an envelope-wrapped payload, a DLQ pattern channel, a producer and a consumer. */
export function sampleAsyncApiRoot(): JsonObject {
  return {
    asyncapi: '3.0.0',
    info: { title: 'Fixture events', version: '1.0.0', license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' } },
    defaultContentType: 'application/json',
  };
}

export function sampleAsyncApiFragment(): JsonObject {
  return {
    channels: {
      userSuspended: {
        address: 'access.user_suspended',
        'x-stream': 'ACCESS',
        messages: { UserSuspended: { $ref: '#/components/messages/UserSuspended' } },
      },
      deadLetter: {
        address: 'dlq.{subject}',
        'x-stream': 'DLQ',
        parameters: { subject: { description: 'The original subject.' } },
        messages: { DeadLetter: { payload: { $ref: '#/components/schemas/DeadLetterPayload' } } },
      },
    },
    operations: {
      accessSendsUserSuspended: {
        action: 'send',
        channel: { $ref: '#/channels/userSuspended' },
        'x-service': 'access-subgraph',
      },
      mailerReceivesUserSuspended: {
        action: 'receive',
        channel: { $ref: '#/channels/userSuspended' },
        'x-service': 'notification-relay',
      },
    },
    components: {
      messages: {
        UserSuspended: {
          payload: {
            allOf: [
              { $ref: '#/components/schemas/EventEnvelope' },
              { properties: { payload: { $ref: '#/components/schemas/UserSuspendedPayload' } } },
            ],
          },
        },
      },
      schemas: {
        EventEnvelope: {
          type: 'object',
          required: ['event_id', 'event_type', 'payload'],
          properties: { event_id: { type: 'string' }, event_type: { type: 'string' }, payload: { type: 'object' } },
        },
        UserSuspendedPayload: {
          type: 'object',
          additionalProperties: false,
          required: ['user_id', 'reason'],
          properties: { user_id: { type: 'string', format: 'uuid' }, reason: { type: 'string' } },
        },
        DeadLetterPayload: { type: 'object', required: ['original_subject'], properties: { original_subject: { type: 'string' } } },
      },
    },
  };
}

/** Writes the sample event contract and its bundle. */
export function plantSampleAsyncApi(repo: TempRepo, fragment: JsonObject = sampleAsyncApiFragment()): void {
  repo.write('doc/api/asyncapi/_root.yaml', sampleAsyncApiRoot());
  repo.write('doc/api/asyncapi/access.yaml', fragment);
  repo.bundle('asyncapi');
}
