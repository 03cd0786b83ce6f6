import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { createLogger } from '@gpuaas/telemetry';
import { formatGraphQLError } from '../src/index.js';

const logger = createLogger('graphql-errors-test', 'silent');

function format(original: Error) {
  const wrapped = new GraphQLError(original.message, { originalError: original, path: ['createAllocation'] });
  return formatGraphQLError(wrapped.toJSON(), wrapped, logger);
}

describe('formatGraphQLError', () => {
  it('answers a catalog error with its code, message and details', () => {
    const formatted = format(new AppError('capacity_unavailable', 'No free slot', { region: 'eu-west' }));
    expect(formatted.extensions).toMatchObject({ code: 'capacity_unavailable', details: { region: 'eu-west' } });
    expect(formatted.message).toBe('No free slot');
  });

  it('answers an exhausted database pool as retryable service_unavailable, not internal_error', () => {
    const formatted = format(new Error('timeout exceeded when trying to connect'));
    expect(formatted.extensions?.['code']).toBe('service_unavailable');
    expect(formatted.path).toEqual(['createAllocation']);
  });

  it('hides any other failure behind internal_error without its message', () => {
    const formatted = format(new Error('relation "secret_table" does not exist'));
    expect(formatted.extensions?.['code']).toBe('internal_error');
    expect(formatted.message).not.toContain('secret_table');
  });
});
