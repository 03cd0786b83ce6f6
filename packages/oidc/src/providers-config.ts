import { loadConfig, z } from '@gpuaas/config';

export interface OidcProviderConfig {
  /** Lower-case id from `OIDC_PROVIDERS`; the env prefix is `OIDC_<ID>_`. */
  readonly id: string;
  readonly issuer: string;
  readonly clientId: string;
  /** Undefined for a public client, which then authenticates by PKCE alone. */
  readonly clientSecret: string | undefined;
  readonly displayName: string;
  readonly scopes: readonly string[];
}

export interface OidcConfig {
  readonly providers: readonly OidcProviderConfig[];
  /** Callback URLs a login may name; anything else is refused before the provider is asked. */
  readonly redirectUriAllowlist: readonly string[];
}

const PROVIDER_ID = /^[a-z][a-z0-9_]*$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const list = (raw: string) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

// zod 4 runs a refinement even after z.url() failed, so each one guards its own parsing.
const issuerUrl = z.url().refine(
  (value) => {
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    return secure && url.search === '' && url.hash === '';
  },
  { message: 'must be an https URL without query or fragment (http only on a loopback host)' },
);

const redirectUri = z.url().refine(
  (value) => !URL.canParse(value) || (/^https?:$/.test(new URL(value).protocol) && new URL(value).hash === ''),
  { message: 'each entry must be an absolute http(s) URL without fragment' },
);

const scopes = z
  .string()
  .default('openid email profile')
  .transform((raw) => raw.split(/[\s,]+/).filter((scope) => scope !== ''))
  .refine((values) => values.includes('openid'), { message: 'must include "openid"' });

const required = z.string({ error: 'is required' }).trim().min(1, 'is required');

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

/**
 * Reads the OIDC providers from the environment: `OIDC_PROVIDERS=google,corp` and per provider
 * `OIDC_<ID>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET` (optional), `_DISPLAY_NAME`, `_SCOPES`, plus
 * `OIDC_REDIRECT_URI_ALLOWLIST`. Throws one ConfigError listing every problem.
 */
export function parseOidcProviders(env: Readonly<Record<string, string | undefined>>): OidcConfig {
  const ids = list(env.OIDC_PROVIDERS ?? '').map((id) => id.toLowerCase());
  const shape: Record<string, z.ZodType> = {
    OIDC_PROVIDERS: z
      .string()
      .default('')
      .transform((raw) => list(raw).map((id) => id.toLowerCase()))
      .pipe(
        z
          .array(z.string().regex(PROVIDER_ID, 'each id must be letters, digits and underscores, starting with a letter'))
          .refine((values) => new Set(values).size === values.length, { message: 'ids must be unique' }),
      ),
    OIDC_REDIRECT_URI_ALLOWLIST: z
      .string()
      .default('')
      .transform(list)
      .pipe(z.array(redirectUri).min(ids.length > 0 ? 1 : 0, 'must list at least one callback URL when providers are configured')),
  };
  const validIds = [...new Set(ids.filter((id) => PROVIDER_ID.test(id)))];
  for (const id of validIds) {
    const prefix = envPrefix(id);
    shape[`${prefix}ISSUER`] = required.pipe(issuerUrl);
    shape[`${prefix}CLIENT_ID`] = required;
    shape[`${prefix}CLIENT_SECRET`] = optionalText;
    shape[`${prefix}DISPLAY_NAME`] = optionalText;
    shape[`${prefix}SCOPES`] = scopes;
  }

  const parsed = loadConfig(z.object(shape), env) as Record<string, unknown>;
  const text = (key: string) => parsed[key] as string;
  return {
    providers: validIds.map((id) => {
      const prefix = envPrefix(id);
      return {
        id,
        issuer: text(`${prefix}ISSUER`),
        clientId: text(`${prefix}CLIENT_ID`),
        clientSecret: parsed[`${prefix}CLIENT_SECRET`] as string | undefined,
        displayName: (parsed[`${prefix}DISPLAY_NAME`] as string | undefined) ?? id,
        scopes: parsed[`${prefix}SCOPES`] as string[],
      };
    }),
    redirectUriAllowlist: (parsed.OIDC_REDIRECT_URI_ALLOWLIST as string[]).map((uri) => new URL(uri).href),
  };
}

/** True when `uri` is exactly one of the allow-listed callback URLs (compared after URL normalisation). */
export function isRedirectUriAllowed(config: Pick<OidcConfig, 'redirectUriAllowlist'>, uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  return config.redirectUriAllowlist.includes(new URL(uri).href);
}

const envPrefix = (id: string) => `OIDC_${id.toUpperCase()}_`;
