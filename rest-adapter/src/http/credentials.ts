import { AppError } from '@gpuaas/errors';
import type { ContractOperation } from '../contract/load-contract.js';

// RFC 6750 b64token: the only shape a bearer credential may have.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of a well-formed `Authorization: Bearer …` header; undefined when absent or malformed. */
export function bearerTokenFrom(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header)?.[1];
}

/** Query parameters that would carry a credential in a URL, where logs, proxies and browser history keep it. */
const CREDENTIAL_QUERY_PARAMETERS = ['access_token', 'token', 'bearer', 'refresh_token'] as const;

/**
 * The contract never takes a bearer token in a query string. A parameter of one of these names is refused
 * unless the matched operation declares it itself (a one-use token from an email link is not a bearer token).
 */
export function refuseCredentialsInQuery(query: Readonly<Record<string, unknown>>, declared: readonly string[]): void {
  const offending = CREDENTIAL_QUERY_PARAMETERS.filter((name) => name in query && !declared.includes(name));
  if (offending.length === 0) return;
  throw new AppError('validation_error', 'Credentials are accepted only in the Authorization header, never in a query string', {
    fields: offending.map((name) => ({ field: `query.${name}`, message: 'credentials must not be sent in a query string' })),
  });
}

/** Operations that take a bearer credential; the others are anonymous even when a client sends one anyway. */
export function takesBearer(operation: ContractOperation): boolean {
  return operation.security.some((schemes) => schemes.includes('userBearer') || schemes.includes('nodeBearer'));
}
