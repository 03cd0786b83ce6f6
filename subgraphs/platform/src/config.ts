import { loadConfig, z } from '@gpuaas/config';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

/** The platform subgraph's environment; domain-specific variables join `subgraphEnv` here as the domain grows. */
const schema = z.object({ ...subgraphEnv(4105) }).superRefine(refineGatewaySecret);

export type PlatformConfig = SubgraphSettings;

/** The only reader of process.env for this deployable; throws a ConfigError listing every problem. */
export function loadPlatformConfig(env: Readonly<Record<string, string | undefined>> = process.env): PlatformConfig {
  return subgraphSettings(loadConfig(schema, env));
}
