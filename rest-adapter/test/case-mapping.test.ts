import { describe, expect, it } from 'vitest';
import type { Document } from 'openapi-backend';
import { camelKey, mapLikeFields, snakeKey, toCamelCase, toSnakeCase } from '../src/case-mapping.js';
import { dereference } from '../src/contract/dereference.js';
import { loadContract } from '../src/contract/load-contract.js';

describe('case mapping between REST and GraphQL', () => {
  it('renames keys deeply, through nested objects and arrays', () => {
    const rest = { project_id: 'p1', gpu_count: 2, price_per_hour: { amount_minor: 250, currency: 'USD' }, ssh_keys: [{ key_id: 'k1', public_key: 'ssh-ed25519 AAAA' }] };

    expect(toCamelCase(rest)).toEqual({ projectId: 'p1', gpuCount: 2, pricePerHour: { amountMinor: 250, currency: 'USD' }, sshKeys: [{ keyId: 'k1', publicKey: 'ssh-ed25519 AAAA' }] });
    expect(toSnakeCase(toCamelCase(rest))).toEqual(rest);
  });

  it('maps arrays at the top level and leaves scalars and null alone', () => {
    expect(toSnakeCase([{ nextCursor: null }, 3, 'text', null])).toEqual([{ next_cursor: null }, 3, 'text', null]);
    expect(toCamelCase('plain_string')).toBe('plain_string');
    expect(toCamelCase(null)).toBeNull();
  });

  it('leaves the contents of map-like fields untouched', () => {
    const graphql = {
      errorCode: 'x',
      details: { retry_after_seconds: 30, someField: 1 },
      labels: { 'gpu.vendor': 'nvidia', rack_id: 'r1' },
      env: { CUDA_VISIBLE_DEVICES: '0', my_setting: 'on' },
      payload: { allocationId: 'a1' },
    };

    expect(toSnakeCase(graphql)).toEqual({
      error_code: 'x',
      details: { retry_after_seconds: 30, someField: 1 },
      labels: { 'gpu.vendor': 'nvidia', rack_id: 'r1' },
      env: { CUDA_VISIBLE_DEVICES: '0', my_setting: 'on' },
      payload: { allocationId: 'a1' },
    });
    expect(toCamelCase({ labels: { rack_id: 'r1' } })).toEqual({ labels: { rack_id: 'r1' } });
  });

  it('accepts its own skip list', () => {
    expect(toCamelCase({ outer_map: { inner_key: 1 }, details: { inner_key: 1 } }, { skip: new Set(['outer_map']) })).toEqual({
      outerMap: { inner_key: 1 },
      details: { innerKey: 1 },
    });
  });

  it('keeps keys that are not plain identifiers, and round-trips an underscore before a digit', () => {
    expect(camelKey('__typename')).toBe('__typename');
    expect(camelKey('Content-Type')).toBe('Content-Type');
    expect(camelKey('slice_1g')).toBe('slice_1g');
    expect(snakeKey(camelKey('slice_1g_profile'))).toBe('slice_1g_profile');
    expect(snakeKey('amountMinor')).toBe('amount_minor');
    expect(snakeKey('already_snake')).toBe('already_snake');
    expect(camelKey('alreadyCamel')).toBe('alreadyCamel');
  });

  it('passes dates and buffers through as values', () => {
    const at = new Date('2026-11-27T12:00:00Z');
    const bytes = Buffer.from('x');
    const mapped = toCamelCase<{ createdAt: Date; rawBytes: Buffer }>({ created_at: at, raw_bytes: bytes });

    expect(mapped.createdAt).toBe(at);
    expect(mapped.rawBytes).toBe(bytes);
  });

  it('skips every free-form map the contract declares', () => {
    const definition = dereference(loadContract().document as Document) as unknown as { components: { schemas: Record<string, unknown> } };
    const mapFields = new Set<string>();
    const visited = new WeakSet<object>();
    const walk = (schema: unknown): void => {
      if (typeof schema !== 'object' || schema === null || visited.has(schema)) return;
      visited.add(schema);
      const s = schema as Record<string, unknown>;
      for (const [name, property] of Object.entries((s['properties'] ?? {}) as Record<string, Record<string, unknown>>)) {
        if (isFreeFormMap(property)) mapFields.add(name);
        walk(property);
      }
      for (const key of ['items', 'additionalProperties']) walk(s[key]);
      for (const key of ['oneOf', 'anyOf', 'allOf']) if (Array.isArray(s[key])) s[key].forEach(walk);
    };
    Object.values(definition.components.schemas).forEach(walk);

    const missing = [...mapFields].filter((name) => !mapLikeFields.has(snakeKey(name)));
    expect(missing, 'add these to mapLikeFields in src/case-mapping.ts').toEqual([]);
  });
});

function isFreeFormMap(schema: Record<string, unknown> | undefined): boolean {
  if (!schema) return false;
  const extra = schema['additionalProperties'];
  return extra !== undefined && extra !== false && schema['properties'] === undefined;
}
