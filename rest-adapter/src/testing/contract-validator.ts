import { OpenAPIRouter, OpenAPIValidator, ValidationContext, type Document } from 'openapi-backend';
import { defaultOpenApiPath, loadContract, type Contract } from '../contract/load-contract.js';
import { dereference } from '../contract/dereference.js';
import { createAjvCustomizer } from '../contract/openapi-backend.js';
import { toFieldIssues, type AjvIssue } from '../http/validation-errors.js';

export interface ContractValidator {
  readonly contract: Contract;
  /** Throws, listing every violation, unless `body` is what the contract promises for `operationId` answering `status`. */
  assertResponseMatchesContract(operationId: string, status: number, body: unknown): void;
  /** Throws unless `body` is the contract's ErrorResponse (for answers no operation owns, such as an unknown path). */
  assertErrorEnvelope(body: unknown): void;
}

/**
 * Response checks for tests through openapi-backend's response validators. Each operation's validators are
 * compiled on first use and kept, so a suite pays once per operation however many responses it checks.
 * Built synchronously so that a forgotten `await` can never turn an assertion into a no-op.
 */
export function createContractValidator(openapiPath: string = defaultOpenApiPath): ContractValidator {
  const contract = loadContract(openapiPath);
  const definition = dereference(contract.document);
  const router = new OpenAPIRouter({ definition });
  const validator = new OpenAPIValidator<Document>({ definition, router, lazyCompileValidators: true, customizeAjv: createAjvCustomizer(), ajvOpts: { allErrors: true } });
  const envelope = errorResponseSchema(definition);
  const envelopeValidator = envelope ? validator.getAjv(ValidationContext.Response).compile(envelope) : undefined;
  return {
    contract,
    assertResponseMatchesContract(operationId, status, body) {
      const operation = router.getOperation(operationId);
      if (!operation) throw new Error(`${operationId} is not an operation of the contract`);
      const declared = Object.keys(operation.responses ?? {});
      const key = [String(status), `${Math.floor(status / 100)}XX`, 'default'].find((k) => declared.includes(k));
      if (!key) throw new Error(`${operationId} declares no ${status} response (declared: ${declared.join(', ')})`);
      // A response declared without content (204, 302) has no body; openapi-backend would check a 302 against `default`.
      if (!(operation.responses as Record<string, { content?: unknown }>)[key]?.content) {
        if (body !== undefined && body !== null) throw new Error(`${operationId} ${status} (contract response "${key}") has no body, got: ${JSON.stringify(body)}`);
        return;
      }
      const result = validator.validateResponse(body, operation, status);
      if (!result.valid) throw new Error(describe(`${operationId} ${status} (contract response "${key}")`, result.errors, body));
    },
    assertErrorEnvelope(body) {
      if (!envelopeValidator) throw new Error('the contract has no components.schemas.ErrorResponse');
      if (!envelopeValidator(body)) throw new Error(describe('ErrorResponse', envelopeValidator.errors, body));
    },
  };
}

let shared: ContractValidator | undefined;

/** The validator over doc/api/openapi.yaml, built once per test process. */
export function contractValidator(): ContractValidator {
  shared ??= createContractValidator();
  return shared;
}

/** Throws unless `body` is what doc/api/openapi.yaml promises for `operationId` answering `status`. */
export function assertResponseMatchesContract(operationId: string, status: number, body: unknown): void {
  contractValidator().assertResponseMatchesContract(operationId, status, body);
}

function errorResponseSchema(definition: Document): object | undefined {
  return (definition as { components?: { schemas?: Record<string, object> } }).components?.schemas?.['ErrorResponse'];
}

function describe(what: string, errors: unknown, body: unknown): string {
  const issues = toFieldIssues((errors ?? []) as AjvIssue[]).map((issue) => `  ${issue.field}: ${issue.message}`);
  return `${what} does not match the contract:\n${issues.join('\n')}\nbody: ${JSON.stringify(body)}`;
}
