import { AppError } from '@gpuaas/errors';
import { expect } from 'vitest';
import type { OidcClient, PendingLogin } from '../src/index.js';
// Until @gpuaas/testkit's index re-exports the test IdP, reach it by path.
export { followAuthorizationRedirects, startTestOidcProvider, type TestOidcProvider } from '@gpuaas/testkit/oidc-provider';
import { followAuthorizationRedirects } from '@gpuaas/testkit/oidc-provider';

/** Never served: the redirect driver stops as soon as the provider points at it. */
export const REDIRECT_URI = 'http://127.0.0.1:9/auth/oidc/callback';

export const alice = { sub: 'alice-0001', email: 'alice@example.test', email_verified: true, name: 'Alice Example' };
export const bob = { sub: 'bob-0002', email: 'bob@example.test', email_verified: false, name: 'Bob Example' };

/** Runs the browser part of a login: begin, then follow the provider's redirects back to our callback. */
export async function authorize(client: OidcClient, loginHint?: string) {
  const request = await client.beginLogin(loginHint === undefined ? {} : { loginHint });
  const callbackUrl = await followAuthorizationRedirects(request.authorizationUrl, REDIRECT_URI);
  const pending: PendingLogin = { provider: client.provider.id, nonce: request.nonce, codeVerifier: request.codeVerifier, redirectUri: REDIRECT_URI };
  return { request, callbackUrl, pending };
}

/** Awaits a promise that must reject with a catalog error and returns that error. */
export async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(AppError);
  return outcome as AppError;
}
