/**
 * Types generated from the contracts by scripts/codegen.ts (`npm run codegen`). Use them at the boundaries only
 * (HTTP decode/encode, event publish/consume); services keep their own domain models.
 */
export type { paths, operations, components, webhooks } from './generated/openapi.js';
export * from './generated/events.js';

import type { components, operations } from './generated/openapi.js';

/** A named schema of the REST contract, e.g. `ApiSchema<'Money'>`. */
export type ApiSchema<Name extends keyof components['schemas']> = components['schemas'][Name];

/** The operation types of one operationId (parameters, requestBody, responses). */
export type ApiOperation<Id extends keyof operations> = operations[Id];
