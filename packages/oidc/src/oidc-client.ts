import { timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@gpuaas/config';
import * as oidc from 'openid-client';
import { loginRefused, providerUnavailable, toLoginError } from './oidc-errors.js';
import type { OidcProviderConfig } from './providers-config.js';

export interface OidcClientOptions {
  /** The callback URL registered at the provider; the caller checks it against the allowlist. */
  redirectUri: string;
  /** Permits an `http://` issuer on a loopback host, for tests and local development only. */
  allowInsecureLoopback?: boolean;
  /** Per-request timeout towards the provider. */
  timeoutSeconds?: number;
}

export interface LoginRequest {
  authorizationUrl: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** What `beginLogin` produced, kept server-side until the callback arrives. */
export interface LoginExpectation {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Either the whole callback URL, or its parameters (forward `iss` whenever the provider sent one). */
export type LoginCallback = { callbackUrl: string | URL } | { code: string; state: string; iss?: string };

export type CompleteLoginInput = LoginCallback & { expected: LoginExpectation };

export interface OidcIdentity {
  providerId: string;
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** Every verified claim (ID token first, userinfo filling the gaps). */
  claims: Readonly<Record<string, unknown>>;
}

export interface OidcClient {
  readonly provider: OidcProviderConfig;
  readonly redirectUri: string;
  /** Fetches (once) and caches the provider's discovery document; a failure is retried on the next call. */
  discover(): Promise<void>;
  beginLogin(options?: { loginHint?: string }): Promise<LoginRequest>;
  completeLogin(input: CompleteLoginInput): Promise<OidcIdentity>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A relying party for one provider: authorization code flow with S256 PKCE, random state and nonce,
 * and ID token signatures checked against the provider's JWKS (openid-client's non-repudiation checks).
 */
export function createOidcClient(provider: OidcProviderConfig, options: OidcClientOptions): OidcClient {
  const issuer = new URL(provider.issuer);
  const insecure = issuer.protocol === 'http:';
  if (insecure && !(options.allowInsecureLoopback && LOOPBACK_HOSTS.has(issuer.hostname))) {
    throw new ConfigError([`OIDC_${provider.id.toUpperCase()}_ISSUER: http is only allowed on loopback with allowInsecureLoopback`]);
  }
  const redirectUri = new URL(options.redirectUri).href;
  let configuration: Promise<oidc.Configuration> | undefined;

  const configure = (): Promise<oidc.Configuration> => {
    configuration ??= oidc
      .discovery(
        issuer,
        provider.clientId,
        undefined,
        provider.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(provider.clientSecret),
        {
          execute: insecure ? [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] : [oidc.enableNonRepudiationChecks],
          timeout: options.timeoutSeconds ?? 10,
        },
      )
      .catch((error: unknown) => {
        configuration = undefined;
        throw providerUnavailable(provider.id, error);
      });
    return configuration;
  };

  return {
    provider,
    redirectUri,
    async discover() {
      await configure();
    },

    async beginLogin(beginOptions = {}) {
      const config = await configure();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const parameters: Record<string, string> = {
        redirect_uri: redirectUri,
        scope: provider.scopes.join(' '),
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      };
      if (beginOptions.loginHint) parameters.login_hint = beginOptions.loginHint;
      const authorizationUrl = oidc.buildAuthorizationUrl(config, parameters).href;
      return { authorizationUrl, state, nonce, codeVerifier };
    },

    async completeLogin(input) {
      const callback = callbackUrl(redirectUri, input);
      // Checked here as well as in openid-client so a forged state is refused before the provider is asked.
      if (!sameSecret(callback.searchParams.get('state'), input.expected.state)) throw loginRefused('state_mismatch');
      const config = await configure();
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: input.expected.codeVerifier,
          expectedState: input.expected.state,
          expectedNonce: input.expected.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) throw loginRefused('id_token_invalid');
        const claims = await withUserInfo(config, tokens.access_token, idClaims);
        return toIdentity(provider.id, claims);
      } catch (error) {
        throw toLoginError(provider.id, error);
      }
    },
  };
}

/** Rebuilds the callback on our own redirect URI so the token request names exactly the registered one. */
function callbackUrl(redirectUri: string, input: LoginCallback): URL {
  const url = new URL(redirectUri);
  if ('callbackUrl' in input) {
    const received = URL.canParse(String(input.callbackUrl)) ? new URL(String(input.callbackUrl)) : undefined;
    if (!received) throw loginRefused('response_invalid');
    url.search = received.search;
    return url;
  }
  url.searchParams.set('code', input.code);
  url.searchParams.set('state', input.state);
  if (input.iss !== undefined) url.searchParams.set('iss', input.iss);
  return url;
}

/** Some providers put only `sub` in the ID token; userinfo (bound to the same subject) fills in the rest. */
async function withUserInfo(config: oidc.Configuration, accessToken: string, idClaims: oidc.IDToken): Promise<Record<string, unknown>> {
  const needsProfile = idClaims.email === undefined || idClaims.name === undefined;
  if (!needsProfile || !config.serverMetadata().userinfo_endpoint) return { ...idClaims };
  const userInfo = await oidc.fetchUserInfo(config, accessToken, idClaims.sub);
  return { ...userInfo, ...idClaims };
}

function toIdentity(providerId: string, claims: Record<string, unknown>): OidcIdentity {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  return {
    providerId,
    issuer: String(claims.iss),
    subject: String(claims.sub),
    email: text(claims.email),
    // A few providers send the boolean as a string.
    emailVerified: claims.email_verified === true || claims.email_verified === 'true',
    name: text(claims.name),
    claims: Object.freeze(claims),
  };
}

function sameSecret(received: string | null, expected: string): boolean {
  if (received === null) return false;
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
