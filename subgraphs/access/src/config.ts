import { loadConfig, z } from '@gpuaas/config';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

/** The access subgraph's environment; domain-specific variables join `subgraphEnv` here as the domain grows. */
const schema = z.object({ ...subgraphEnv(4101) }).superRefine(refineGatewaySecret);

export type AccessConfig = SubgraphSettings;

/** The only reader of process.env for this deployable; throws a ConfigError listing every problem. */
export function loadAccessConfig(env: Readonly<Record<string, string | undefined>> = process.env): AccessConfig {
  return subgraphSettings(loadConfig(schema, env));
}
