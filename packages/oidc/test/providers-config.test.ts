import { ConfigError } from '@gpuaas/config';
import { describe, expect, it } from 'vitest';
import { isRedirectUriAllowed, parseOidcProviders } from '../src/index.js';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    parseOidcProviders(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('parseOidcProviders', () => {
  it('reads each listed provider with its defaults', () => {
    const config = parseOidcProviders({
      OIDC_PROVIDERS: 'google, Corp',
      OIDC_GOOGLE_ISSUER: 'https://accounts.google.test',
      OIDC_GOOGLE_CLIENT_ID: 'google-client',
      OIDC_GOOGLE_CLIENT_SECRET: 'google-secret',
      OIDC_GOOGLE_DISPLAY_NAME: 'Google',
      OIDC_CORP_ISSUER: 'https://sso.corp.test/realms/main',
      OIDC_CORP_CLIENT_ID: 'corp-client',
      OIDC_CORP_SCOPES: 'openid email',
      OIDC_REDIRECT_URI_ALLOWLIST: 'https://console.gpuaas.test/auth/callback, http://127.0.0.1:5173/auth/callback',
    });

    expect(config.providers).toEqual([
      {
        id: 'google',
        issuer: 'https://accounts.google.test',
        clientId: 'google-client',
        clientSecret: 'google-secret',
        displayName: 'Google',
        scopes: ['openid', 'email', 'profile'],
      },
      {
        id: 'corp',
        issuer: 'https://sso.corp.test/realms/main',
        clientId: 'corp-client',
        clientSecret: undefined,
        displayName: 'corp',
        scopes: ['openid', 'email'],
      },
    ]);
    expect(config.redirectUriAllowlist).toEqual(['https://console.gpuaas.test/auth/callback', 'http://127.0.0.1:5173/auth/callback']);
  });

  it('configures no provider when OIDC_PROVIDERS is unset', () => {
    expect(parseOidcProviders({})).toEqual({ providers: [], redirectUriAllowlist: [] });
  });

  it('reports every missing variable at once', () => {
    const problems = problemsOf({ OIDC_PROVIDERS: 'google,corp' });

    const fields = problems.map((problem) => problem.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        'OIDC_GOOGLE_ISSUER',
        'OIDC_GOOGLE_CLIENT_ID',
        'OIDC_CORP_ISSUER',
        'OIDC_CORP_CLIENT_ID',
        'OIDC_REDIRECT_URI_ALLOWLIST',
      ]),
    );
    expect(fields).toHaveLength(5);
  });

  it('rejects insecure issuers, scopes without openid, bad ids and bad callback URLs together', () => {
    const problems = problemsOf({
      OIDC_PROVIDERS: 'good,bad-id',
      OIDC_GOOGLE_ISSUER: 'ignored because google is not listed',
      OIDC_GOOD_ISSUER: 'http://idp.example.test',
      OIDC_GOOD_CLIENT_ID: 'client',
      OIDC_GOOD_SCOPES: 'email profile',
      OIDC_REDIRECT_URI_ALLOWLIST: 'not a url',
    });

    const fields = problems.map((problem) => problem.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining(['OIDC_PROVIDERS.1', 'OIDC_GOOD_ISSUER', 'OIDC_GOOD_SCOPES', 'OIDC_REDIRECT_URI_ALLOWLIST.0']),
    );
    expect(fields).toHaveLength(4);
  });

  it('accepts a plain-http issuer on loopback for local development', () => {
    const config = parseOidcProviders({
      OIDC_PROVIDERS: 'dev',
      OIDC_DEV_ISSUER: 'http://127.0.0.1:8080',
      OIDC_DEV_CLIENT_ID: 'dev-client',
      OIDC_REDIRECT_URI_ALLOWLIST: 'http://127.0.0.1:4000/auth/callback',
    });

    expect(config.providers[0]?.issuer).toBe('http://127.0.0.1:8080');
  });
});

describe('isRedirectUriAllowed', () => {
  const config = { redirectUriAllowlist: ['https://console.gpuaas.test/auth/callback'] };

  it('allows only an exact allow-listed callback URL', () => {
    expect(isRedirectUriAllowed(config, 'https://console.gpuaas.test/auth/callback')).toBe(true);
    expect(isRedirectUriAllowed(config, 'HTTPS://CONSOLE.gpuaas.test/auth/callback')).toBe(true);
    expect(isRedirectUriAllowed(config, 'https://console.gpuaas.test/auth/callback/evil')).toBe(false);
    expect(isRedirectUriAllowed(config, 'https://evil.test/auth/callback')).toBe(false);
    expect(isRedirectUriAllowed(config, 'not a url')).toBe(false);
  });
});
