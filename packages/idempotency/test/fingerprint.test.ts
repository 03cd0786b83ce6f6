import { describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { canonicalJson, fingerprintRequest, parseIdempotencyKey } from '../src/index.js';

describe('fingerprintRequest', () => {
  it('ignores key order at every depth of the body', () => {
    const a = fingerprintRequest({ method: 'POST', path: '/api/v1/allocations', body: { gpu: { model: 'h100', count: 1 }, region: 'eu' } });
    const b = fingerprintRequest({ method: 'post', path: '/api/v1/allocations', body: { region: 'eu', gpu: { count: 1, model: 'h100' } } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when the method, the path, a value or array order differs', () => {
    const base = { method: 'POST', path: '/api/v1/allocations', body: { ids: [1, 2], name: 'x' } };
    const fingerprints = new Set([
      fingerprintRequest(base),
      fingerprintRequest({ ...base, method: 'PUT' }),
      fingerprintRequest({ ...base, path: '/api/v1/allocations/2' }),
      fingerprintRequest({ ...base, body: { ids: [1, 2], name: 'y' } }),
      fingerprintRequest({ ...base, body: { ids: [2, 1], name: 'x' } }),
      fingerprintRequest({ ...base, body: undefined }),
    ]);
    expect(fingerprints.size).toBe(6);
  });

  it('treats a missing body like a JSON null and drops undefined members', () => {
    expect(fingerprintRequest({ method: 'DELETE', path: '/x' })).toBe(fingerprintRequest({ method: 'DELETE', path: '/x', body: null }));
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined] })).toBe('{"b":1,"c":[null]}');
  });
});

describe('parseIdempotencyKey', () => {
  it('returns undefined without a header and the key when it is well-formed', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('0f9c2d6e-7b1a-4c1e-9a51-2b8f3e4d5c6a')).toBe('0f9c2d6e-7b1a-4c1e-9a51-2b8f3e4d5c6a');
    expect(parseIdempotencyKey(['k1', 'k2'])).toBe('k1');
  });

  it('rejects empty, over-long and non-printable keys as validation errors', () => {
    for (const bad of ['', 'a'.repeat(256), 'has space', 'tab\tkey', 'ключ']) {
      expect(() => parseIdempotencyKey(bad)).toThrow(expect.objectContaining({ code: 'validation_error' }) as AppError);
    }
  });
});
