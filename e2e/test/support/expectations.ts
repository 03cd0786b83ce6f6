import { expect } from 'vitest';
import { errorCatalog, type ErrorCode } from '@gpuaas/errors';
import { DoorError } from './access-client.js';

/** Awaits a refusal with this catalog code; through REST the HTTP status must be the catalog's too. */
export async function expectRefusal(attempt: Promise<unknown>, code: ErrorCode): Promise<DoorError> {
  const outcome = await attempt.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected ${code}, but the call succeeded with ${JSON.stringify(outcome.value)}`);
  const { error } = outcome;
  if (!(error instanceof DoorError)) throw error;
  expect(error.code, error.message).toBe(code);
  if (error.status !== undefined) expect(error.status).toBe(errorCatalog[code].httpStatus);
  return error;
}
