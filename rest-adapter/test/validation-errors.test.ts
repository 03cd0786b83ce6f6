import { describe, expect, it } from 'vitest';
import { toFieldIssues, type AjvIssue } from '../src/http/validation-errors.js';

const issue = (overrides: Partial<AjvIssue>): AjvIssue => ({ keyword: 'type', instancePath: '', schemaPath: '#/x', params: {}, message: 'must be string', ...overrides });

describe('Ajv errors as field issues', () => {
  it('names body, query, path and header fields the way clients send them', () => {
    expect(
      toFieldIssues([
        issue({ instancePath: '/requestBody/email', message: 'must match format "email"', keyword: 'format', params: { format: 'email' } }),
        issue({ instancePath: '/query/limit', keyword: 'maximum', message: 'must be <= 200' }),
        issue({ instancePath: '/path/id', keyword: 'format', params: { format: 'uuid' } }),
        issue({ instancePath: '/header/x-idempotency-key', keyword: 'minLength', message: 'must NOT have fewer than 8 characters' }),
      ]),
    ).toEqual([
      { field: 'body.email', message: 'must be a valid email' },
      { field: 'query.limit', message: 'must be <= 200' },
      { field: 'path.id', message: 'must be a valid uuid' },
      { field: 'header.x-idempotency-key', message: 'must NOT have fewer than 8 characters' },
    ]);
  });

  it('points a missing property at the property, and a missing body at the body', () => {
    expect(
      toFieldIssues([
        issue({ keyword: 'required', instancePath: '/requestBody/amount', params: { missingProperty: 'currency' } }),
        issue({ keyword: 'required', instancePath: '/query', params: { missingProperty: 'from' } }),
        issue({ keyword: 'required', instancePath: '', params: { missingProperty: 'requestBody' } }),
      ]),
    ).toEqual([
      { field: 'body.amount.currency', message: 'is required' },
      { field: 'query.from', message: 'is required' },
      { field: 'body', message: 'is required' },
    ]);
  });

  it('writes array positions as indexes and unescapes JSON pointers', () => {
    expect(toFieldIssues([issue({ instancePath: '/requestBody/items/2/a~1b' })])).toEqual([{ field: 'body.items[2].a/b', message: 'must be string' }]);
  });

  it('names unknown properties and lists the allowed values of an enum', () => {
    expect(
      toFieldIssues([
        issue({ keyword: 'additionalProperties', instancePath: '/query', params: { additionalProperty: 'colour' } }),
        issue({ keyword: 'additionalProperties', instancePath: '/requestBody', params: { additionalProperty: 'extra' } }),
        issue({ keyword: 'enum', instancePath: '/query/group_by', params: { allowedValues: ['day', 'profile'] } }),
      ]),
    ).toEqual([
      { field: 'query.colour', message: 'is not a parameter of this operation' },
      { field: 'body.extra', message: 'is not an allowed property' },
      { field: 'query.group_by', message: 'must be one of: day, profile' },
    ]);
  });

  it('reports a failed oneOf once instead of every branch, and drops if/then wrappers and duplicates', () => {
    const issues = toFieldIssues([
      issue({ instancePath: '/requestBody/target', schemaPath: '#/properties/requestBody/properties/target/oneOf/0/type' }),
      issue({ instancePath: '/requestBody/target', schemaPath: '#/properties/requestBody/properties/target/oneOf/1/required', keyword: 'required', params: { missingProperty: 'id' } }),
      issue({ instancePath: '/requestBody/target', schemaPath: '#/properties/requestBody/properties/target/oneOf', keyword: 'oneOf' }),
      issue({ instancePath: '/requestBody', keyword: 'if', message: 'must match "then" schema' }),
      issue({ instancePath: '/query/limit', keyword: 'type', message: 'must be integer' }),
      issue({ instancePath: '/query/limit', keyword: 'type', message: 'must be integer' }),
    ]);

    expect(issues).toEqual([
      { field: 'body.target', message: 'does not match any of the allowed shapes' },
      { field: 'query.limit', message: 'must be integer' },
    ]);
  });

  it('reports unparseable JSON on the body', () => {
    expect(toFieldIssues([issue({ keyword: 'parse', schemaPath: '#/requestBody', message: 'Unexpected token' })])).toEqual([{ field: 'body', message: 'malformed JSON' }]);
  });
});
