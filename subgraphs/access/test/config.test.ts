import { ConfigError } from '@gpuaas/config';
import { describe, expect, it } from 'vitest';
import { loadAccessConfig } from '../src/index.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadAccessConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('access configuration', () => {
  it('has working defaults for a dev stack', () => {
    const config = loadAccessConfig({});
    expect(config).toMatchObject({
      port: 4101,
      tokenIssuer: 'gpuaas-access',
      tokenAudience: 'gpuaas-api',
      redisKeyPrefix: 'gpuaas:',
      mailSender: 'outbox',
      oidcAllowInsecureLoopback: false,
      oidc: { providers: [], redirectUriAllowlist: [] },
      policies: {
        access_token_ttl_seconds: 900,
        refresh_token_ttl_days: 30,
        password_reset_token_ttl_seconds: 3600,
        login_attempts_per_account_per_15m: 10,
        login_attempts_per_ip_per_15m: 50,
      },
    });
  });

  it('reads policy overrides and OIDC providers', () => {
    const config = loadAccessConfig({
      POLICY_ACCESS_TOKEN_TTL_SECONDS: '300',
      OIDC_PROVIDERS: 'corp',
      OIDC_CORP_ISSUER: 'https://sso.example.com',
      OIDC_CORP_CLIENT_ID: 'gpuaas',
      OIDC_REDIRECT_URI_ALLOWLIST: 'https://console.example.com/login/oidc/callback',
    });
    expect(config.policies.access_token_ttl_seconds).toBe(300);
    expect(config.oidc.providers.map((provider) => provider.id)).toEqual(['corp']);
  });

  it('reports every problem at once, from the base settings, the OIDC providers and the policies', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      OIDC_ALLOW_INSECURE_LOOPBACK: 'true',
      OIDC_PROVIDERS: 'corp',
      POLICY_REFRESH_TOKEN_TTL_DAYS: 'soon',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GATEWAY_IDENTITY_SECRET: required/),
        expect.stringMatching(/^MAIL_SENDER: required/),
        expect.stringMatching(/^OIDC_ALLOW_INSECURE_LOOPBACK: may not be enabled/),
        expect.stringMatching(/^OIDC_CORP_ISSUER/),
        expect.stringMatching(/^POLICY_REFRESH_TOKEN_TTL_DAYS/),
      ]),
    );
  });
});
