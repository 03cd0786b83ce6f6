import type pg from 'pg';
import type { SubgraphContext } from '@gpuaas/service-kit';
import type { Logger } from '@gpuaas/telemetry';

/** What the platform domain's services run on; built once by server.ts and shared by every request. */
export interface PlatformDeps {
  readonly pool: pg.Pool;
  readonly logger: Logger;
}

/** The resolver context: the caller the gateway verified plus the services' dependencies. */
export interface PlatformContext extends SubgraphContext {
  readonly deps: PlatformDeps;
}
