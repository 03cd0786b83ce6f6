import { AppError } from '@gpuaas/errors';
import * as oidc from 'openid-client';

/** Why a login was refused; carried as `details.reason` so clients and logs can tell the cases apart. */
export type LoginFailureReason =
  | 'state_unknown'
  | 'state_mismatch'
  | 'nonce_mismatch'
  | 'code_rejected'
  | 'authorization_denied'
  | 'id_token_signature_invalid'
  | 'id_token_invalid'
  | 'response_invalid';

// oauth4webapi's error codes, which openid-client's ClientError carries but does not re-export.
const RESPONSE_IS_NOT_CONFORM = 'OAUTH_RESPONSE_IS_NOT_CONFORM';
const RESPONSE_IS_NOT_JSON = 'OAUTH_RESPONSE_IS_NOT_JSON';
const JWT_CLAIM_COMPARISON = 'OAUTH_JWT_CLAIM_COMPARISON_FAILED';
const JWT_TIMESTAMP_CHECK = 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED';
const KEY_SELECTION = 'OAUTH_KEY_SELECTION_FAILED';
const INVALID_RESPONSE = 'OAUTH_INVALID_RESPONSE';

export const loginRefused = (reason: LoginFailureReason, extra: Record<string, unknown> = {}, cause?: unknown) =>
  new AppError('invalid_credentials', 'The sign-in with the identity provider could not be completed', { reason, ...extra }, { cause });

export const providerUnavailable = (providerId: string, cause?: unknown) =>
  new AppError('upstream_error', 'The identity provider could not be reached', { provider: providerId }, { cause });

/**
 * Maps what openid-client (or fetch) threw to a catalog error. The library's message stays in `cause`
 * for server logs only; clients see the catalog message and a reason.
 */
export function toLoginError(providerId: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isNetworkFailure(error)) return providerUnavailable(providerId, error);
  if (error instanceof oidc.AuthorizationResponseError) {
    const providerError = /^[a-z_]{1,64}$/.test(error.error) ? error.error : 'unknown';
    return loginRefused('authorization_denied', { provider_error: providerError }, error);
  }
  if (error instanceof oidc.ResponseBodyError) {
    if (error.status >= 500) return providerUnavailable(providerId, error);
    // A rejected client is the operator's misconfiguration, not the user's credentials.
    if (error.error === 'invalid_client' || error.error === 'unauthorized_client') return providerUnavailable(providerId, error);
    return loginRefused('code_rejected', {}, error);
  }
  if (error instanceof oidc.ClientError) {
    switch (error.code) {
      case RESPONSE_IS_NOT_CONFORM:
      case RESPONSE_IS_NOT_JSON:
        return providerUnavailable(providerId, error);
      case JWT_CLAIM_COMPARISON:
        return claimOf(error) === 'nonce' ? loginRefused('nonce_mismatch', {}, error) : loginRefused('id_token_invalid', {}, error);
      case JWT_TIMESTAMP_CHECK:
        return loginRefused('id_token_invalid', {}, error);
      case KEY_SELECTION:
        return loginRefused('id_token_signature_invalid', {}, error);
      case INVALID_RESPONSE:
        return isSignatureFailure(error) ? loginRefused('id_token_signature_invalid', {}, error) : loginRefused('response_invalid', {}, error);
      default:
        return loginRefused('response_invalid', {}, error);
    }
  }
  return new AppError('internal_error', 'An unexpected error occurred', undefined, { cause: error });
}

/** fetch reports refused connections and DNS failures as a bare TypeError; timeouts as a DOMException. */
function isNetworkFailure(error: unknown): boolean {
  if (error instanceof DOMException) return error.name === 'TimeoutError' || error.name === 'AbortError';
  // openid-client's own argument errors are TypeErrors too, but they carry an ERR_* code.
  return error instanceof TypeError && !('code' in error);
}

/** openid-client wraps oauth4webapi's error; the claim that failed sits on the inner error's cause. */
function claimOf(error: oidc.ClientError): unknown {
  const inner = error.cause as { cause?: { claim?: unknown } } | undefined;
  return inner?.cause?.claim;
}

function isSignatureFailure(error: oidc.ClientError): boolean {
  const inner = error.cause as { cause?: Record<string, unknown> } | undefined;
  return inner?.cause !== undefined && 'signature' in inner.cause;
}
