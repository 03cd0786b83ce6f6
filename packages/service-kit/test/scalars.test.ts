import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { dateTimeScalar } from '../src/index.js';

describe('DateTime scalar', () => {
  it('serializes dates and timestamps as RFC 3339 UTC', () => {
    expect(dateTimeScalar.serialize(new Date(Date.UTC(2025, 0, 31, 12, 0, 0)))).toBe('2025-01-31T12:00:00.000Z');
    expect(dateTimeScalar.serialize('2025-01-31T13:00:00+01:00')).toBe('2025-01-31T12:00:00.000Z');
    expect(() => dateTimeScalar.serialize(new Date(Number.NaN))).toThrow(/cannot represent/);
  });

  it('parses RFC 3339 input and refuses anything else', () => {
    expect(dateTimeScalar.parseValue('2025-01-31T12:00:00Z')).toEqual(new Date('2025-01-31T12:00:00Z'));
    expect(() => dateTimeScalar.parseValue('31/01/2025')).toThrow(/RFC 3339/);
    expect(() => dateTimeScalar.parseValue(1738324800000)).toThrow(/RFC 3339/);
    expect(dateTimeScalar.parseLiteral({ kind: Kind.STRING, value: '2025-01-31T12:00:00.5Z' })).toEqual(new Date('2025-01-31T12:00:00.500Z'));
    expect(() => dateTimeScalar.parseLiteral({ kind: Kind.INT, value: '1' })).toThrow(/must be a string/);
  });
});
