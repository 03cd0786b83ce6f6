import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ClientMetadata, type JWK } from 'oidc-provider';

export interface TestOidcClient {
  client_id: string;
  /** Omit for a public client (token endpoint auth `none`); PKCE is required either way. */
  client_secret?: string;
  redirect_uris: string[];
}

export interface TestOidcAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
}

export interface TestOidcProviderOptions {
  clients: TestOidcClient[];
  accounts: TestOidcAccount[];
  /**
   * oidc-provider's default (true) puts only `sub` in the ID token when an access token is issued, so a
   * relying party must read email/name from userinfo; false puts the scope's claims in the ID token too.
   */
  conformIdTokenClaims?: boolean;
}

export interface TestOidcProvider {
  /** `http://127.0.0.1:<port>`; discovery lives at `${issuer}/.well-known/openid-configuration`. */
  readonly issuer: string;
  /**
   * The account the interaction route logs in when the request carries no `login_hint` (with a single
   * account that one is the default). Tests running logins concurrently should prefer `login_hint`.
   */
  loginAs(sub: string): void;
  /**
   * From now on the JWKS endpoint publishes other keys under the same key ids while tokens are still
   * signed with the real ones, so a relying party that verifies signatures must reject them.
   */
  publishForeignJwks(): void;
  stop(): Promise<void>;
}

const KEY_ID = 'test-signing-key';

/**
 * A real OpenID provider (oidc-provider) on loopback with a random port and fresh signing keys. Its
 * interaction route logs in and consents without any page, so tests drive the redirects with fetch.
 */
export async function startTestOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const accounts = new Map(options.accounts.map((account) => [account.sub, account]));
  let selectedSub: string | undefined = options.accounts.length === 1 ? options.accounts[0]?.sub : undefined;
  let publishedJwks: { keys: JWK[] } | undefined;

  const signingKey = ecSigningKey();
  const foreignPublicKey = ecSigningKey().public;

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: options.clients.map(toClientMetadata),
    jwks: { keys: [signingKey.private] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: options.conformIdTokenClaims ?? true,
    responseTypes: ['code'],
    // Explicit lifetimes; the defaults work but print a notice on every first use.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account }) };
    },
  });

  const completeInteraction = async (req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
    const sub = details.session?.accountId ?? hint ?? selectedSub;
    if (sub === undefined || !accounts.has(sub)) {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'no test account selected' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const clientId = String(details.params.client_id);
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId: sub, clientId });
    // Granting everything that was asked for answers the login and the consent prompt in one round trip.
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
  };

  const providerCallback = provider.callback();
  const jwksPath = new URL(provider.urlFor('jwks')).pathname;
  handler = (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (publishedJwks && req.method === 'GET' && path === jwksPath) {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(publishedJwks));
      return;
    }
    if (req.method === 'GET' && path.startsWith('/interaction/')) {
      completeInteraction(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : 'interaction failed');
      });
      return;
    }
    providerCallback(req, res);
  };

  return {
    issuer,
    loginAs(sub) {
      if (!accounts.has(sub)) throw new Error(`test IdP has no account ${sub}`);
      selectedSub = sub;
    },
    publishForeignJwks() {
      publishedJwks = { keys: [foreignPublicKey] };
    },
    async stop() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function toClientMetadata(client: TestOidcClient): ClientMetadata {
  return {
    client_id: client.client_id,
    ...(client.client_secret === undefined ? {} : { client_secret: client.client_secret }),
    redirect_uris: client.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: client.client_secret === undefined ? 'none' : 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  };
}

// ES256 rather than RS256: generating a P-256 key takes microseconds, an RSA key up to a second.
function ecSigningKey(): { private: JWK; public: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const meta = { kid: KEY_ID, alg: 'ES256', use: 'sig' };
  return {
    private: { ...(privateKey.export({ format: 'jwk' }) as JWK), ...meta },
    public: { ...(publicKey.export({ format: 'jwk' }) as JWK), ...meta },
  };
}

/**
 * Follows an authorization request's redirects by hand, carrying the provider's cookies, until one
 * points at `redirectUri`; returns that callback URL (with `code`, `state`, `iss` or an `error`).
 */
export async function followAuthorizationRedirects(authorizationUrl: string | URL, redirectUri: string): Promise<URL> {
  const target = new URL(redirectUri);
  const cookies = new Map<string, string>();
  let url = new URL(authorizationUrl);
  for (let hop = 0; hop < 20; hop += 1) {
    const cookieHeader = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookieHeader ? { cookie: cookieHeader } : {} });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair = ''] = setCookie.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      if (value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      const body = await response.text();
      throw new Error(`authorization chain stopped at ${url.pathname} with ${response.status}: ${body.slice(0, 300)}`);
    }
    await response.body?.cancel();
    url = new URL(location, url);
    if (url.origin === target.origin && url.pathname === target.pathname) return url;
  }
  throw new Error(`authorization chain did not reach ${redirectUri} within 20 redirects`);
}
