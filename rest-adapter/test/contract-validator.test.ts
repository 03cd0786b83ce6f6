import { describe, expect, it } from 'vitest';
import { contractValidator } from '../src/testing/contract-validator.js';

const validator = contractValidator();
const webhook = validator.contract.operations.find((o) => o.security.flat().includes('stripeSignature'));
const anyOperation = validator.contract.operations[0]!;
const envelope = { code: 'not_implemented', message: 'x is in the contract but not served yet', correlation_id: 'c-1', details: { operation_id: 'x' } };

describe('the contract response validator', () => {
  it('accepts an error envelope for a status the operation answers with its default response', () => {
    expect(() => validator.assertResponseMatchesContract(anyOperation.operationId, 501, envelope)).not.toThrow();
  });

  it('rejects an error body that is not the envelope, naming the problems', () => {
    expect(() => validator.assertResponseMatchesContract(anyOperation.operationId, 501, { error: 'nope', stack: 'at x.ts:1' })).toThrow(/code: is required[\s\S]*correlation_id: is required/);
  });

  it('rejects a field the envelope does not allow', () => {
    expect(() => validator.assertResponseMatchesContract(anyOperation.operationId, 501, { ...envelope, stack: 'Error at x' })).toThrow(/stack/);
  });

  it('checks a success body against that status\'s schema', () => {
    expect(webhook).toBeDefined();
    expect(() => validator.assertResponseMatchesContract(webhook!.operationId, 200, { received: true })).not.toThrow();
    expect(() => validator.assertResponseMatchesContract(webhook!.operationId, 200, { received: 'yes' })).toThrow(/received/);
  });

  it('accepts no body, and only no body, for a response declared without content', () => {
    const redirect = validator.contract.operations.find((o) => o.operationId === 'startOidcLogin')!;
    const deletion = validator.contract.operations.find((o) => o.method === 'delete')!;

    expect(() => validator.assertResponseMatchesContract(redirect.operationId, 302, undefined)).not.toThrow();
    expect(() => validator.assertResponseMatchesContract(deletion.operationId, 204, undefined)).not.toThrow();
    expect(() => validator.assertResponseMatchesContract(redirect.operationId, 302, envelope)).toThrow(/has no body/);
    expect(() => validator.assertResponseMatchesContract(deletion.operationId, 204, { deleted: true })).toThrow(/has no body/);
  });

  it('refuses an operation the contract does not have', () => {
    expect(() => validator.assertResponseMatchesContract('noSuchOperation', 200, {})).toThrow(/not an operation of the contract/);
  });

  it('checks bodies outside any operation against the shared ErrorResponse', () => {
    expect(() => validator.assertErrorEnvelope({ code: 'not_found', message: 'No route', correlation_id: 'c-2' })).not.toThrow();
    expect(() => validator.assertErrorEnvelope({ code: 'not_found' })).toThrow(/message: is required/);
  });
});
