import type { SubgraphContext } from '@gpuaas/service-kit';
import type { AccessDeps } from './services/deps.js';

/** The resolver context: the caller the gateway verified plus the services' dependencies. */
export interface AccessContext extends SubgraphContext {
  readonly deps: AccessDeps;
}
