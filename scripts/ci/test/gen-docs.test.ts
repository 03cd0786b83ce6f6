import { describe, expect, it } from 'vitest';
import { generateDocs, renderApiSurfaceDoc, renderErrorsDoc, renderNatsSubjectsDoc, renderPoliciesDoc } from '../../gen-docs.js';
import { bundle } from '../../bundle-contracts.js';
import { createTempRepo, plantSampleOpenApi } from '../lib/temp-repo.js';
import type { JsonObject } from '../lib/repo.js';

const generatedLine = /^_Generated from .+ by scripts\/gen-docs\.ts — do not edit; run `npm run codegen` after changing the source\._\n/;

describe('gen-docs', () => {
  it('lists each error code with its status, retryability and meaning', () => {
    const doc = renderErrorsDoc({
      not_found: { httpStatus: 404, retryable: false, meaning: 'No such object.' },
      rate_limited: { httpStatus: 429, retryable: true, meaning: 'Slow down | later.' },
    });
    expect(doc).toMatch(generatedLine);
    expect(doc).toContain('| `not_found` | 404 | no | No such object. |');
    expect(doc).toContain('| `rate_limited` | 429 | yes | Slow down \\| later. |');
  });

  it('lists each policy with its environment variable, default, unit and owner', () => {
    const doc = renderPoliciesDoc({ refund_window_days: { default: 30, unit: 'days', owner: 'billing', meaning: 'Refundable age.' } });
    expect(doc).toMatch(generatedLine);
    expect(doc).toContain('| `refund_window_days` | `POLICY_REFUND_WINDOW_DAYS` | 30 | days | billing | Refundable age. |');
  });

  it('draws the streams, the producer/consumer matrix and the dead-letter rule from the AsyncAPI', () => {
    const asyncapi: JsonObject = {
      asyncapi: '3.0.0',
      channels: {
        active: { address: 'provisioning.active', 'x-stream': 'PROVISIONING', messages: { Active: { payload: { $ref: '#/components/schemas/ActivePayload' } } } },
      },
      operations: {
        send: { action: 'send', channel: { $ref: '#/channels/active' }, 'x-service': 'provisioning-worker' },
        meter: { action: 'receive', channel: { $ref: '#/channels/active' }, 'x-service': 'billing-worker', 'x-max-deliver': 8 },
      },
      components: { schemas: { ActivePayload: { type: 'object' } } },
    };
    const doc = renderNatsSubjectsDoc(asyncapi);
    expect(doc).toMatch(generatedLine);
    expect(doc).toContain('| `PROVISIONING` | `provisioning.>` | 1 |');
    expect(doc).toContain('| `DLQ` | `dlq.>` |');
    expect(doc).toContain('| `provisioning.active` | `PROVISIONING` | `ActivePayload` | provisioning-worker | billing-worker |');
    expect(doc).toContain('| subject | `billing-worker` | `provisioning-worker` |');
    expect(doc).toContain('| `provisioning.active` | C | P |');
    expect(doc).toContain('| `provisioning.active` | billing-worker | `meter` | 8 | `dlq.provisioning.active` |');
  });

  it('catalogues REST operations per tag with auth and idempotency', () => {
    const repo = createTempRepo();
    try {
      plantSampleOpenApi(repo);
      const doc = renderApiSurfaceDoc(bundle('openapi', `${repo.root}/doc/api/openapi`));
      expect(doc).toMatch(generatedLine);
      expect(doc).toContain('## access (2)');
      expect(doc).toContain('| GET | `/api/v1/users` | `listUsers` | List users | userBearer | yes |');
      expect(doc).toContain('| POST | `/api/v1/users` | `createUser` | Create a user | userBearer | yes |');
      expect(doc).toContain('## admin (1)');
    } finally {
      repo.remove();
    }
  });

  it('marks a mutation without X-Idempotency-Key as not idempotent', () => {
    const doc = renderApiSurfaceDoc({
      paths: { '/x': { post: { operationId: 'postX', tags: ['platform'], summary: 'Post', security: [] } } },
    });
    expect(doc).toContain('| POST | `/x` | `postX` | Post | none | no |');
  });

  it('renders the four documents at their committed paths', () => {
    const files = generateDocs({ openapi: undefined, asyncapi: undefined, errorCatalog: {}, policyCatalog: {} });
    expect(files.map((f) => f.path)).toEqual(['doc/errors.md', 'doc/policies.md', 'doc/nats-subjects.md', 'doc/api/API_Surface.md']);
  });
});
