import { createOidcClient, type OidcClient, type OidcConfig, type OidcProviderConfig } from '@gpuaas/oidc';

export interface OidcClients {
  readonly providers: readonly OidcProviderConfig[];
  provider(id: string): OidcProviderConfig | undefined;
  /** One relying-party client per (provider, redirect URI), created on first use; discovery is cached inside it. */
  client(provider: OidcProviderConfig, redirectUri: string): OidcClient;
}

export function createOidcClients(config: OidcConfig, options: { allowInsecureLoopback: boolean }): OidcClients {
  const clients = new Map<string, OidcClient>();
  return {
    providers: config.providers,
    provider: (id) => config.providers.find((provider) => provider.id === id),
    client(provider, redirectUri) {
      const key = `${provider.id}\n${redirectUri}`;
      let client = clients.get(key);
      if (!client) {
        client = createOidcClient(provider, { redirectUri, allowInsecureLoopback: options.allowInsecureLoopback });
        clients.set(key, client);
      }
      return client;
    },
  };
}
