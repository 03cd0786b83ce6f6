import type pg from 'pg';
import type { TokenRevocationStore } from '@gpuaas/auth';
import type { LoginStateStore } from '@gpuaas/oidc';
import type { RateLimiter } from '@gpuaas/rate-limit';
import type { SubgraphContext } from '@gpuaas/service-kit';
import type { Logger } from '@gpuaas/telemetry';
import type { AccessConfig } from '../config.js';
import type { MailSender } from './mail.js';
import type { OidcClients } from './oidc-clients.js';
import type { SigningKeyStore } from './signing-keys.js';

/** What the access services run on; built once in server.ts and shared by every request. */
export interface AccessDeps {
  readonly pool: pg.Pool;
  readonly config: AccessConfig;
  readonly logger: Logger;
  readonly revocations: TokenRevocationStore;
  readonly rateLimiter: RateLimiter;
  readonly loginStates: LoginStateStore;
  readonly signingKeys: SigningKeyStore;
  readonly mail: MailSender;
  readonly oidcClients: OidcClients;
}

/** Who is calling, as the gateway verified it (the subgraph's base context). */
export type Caller = SubgraphContext;

/** Client address for per-IP limits; null when the gateway did not say (the IP limit is then skipped). */
export function callerIp(caller: Caller): string | null {
  return caller.identity.ip ?? null;
}
