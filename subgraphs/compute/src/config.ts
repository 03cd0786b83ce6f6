import { loadConfig, z } from '@gpuaas/config';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

/** The compute subgraph's environment; domain-specific variables join `subgraphEnv` here as the domain grows. */
const schema = z.object({ ...subgraphEnv(4102) }).superRefine(refineGatewaySecret);

export type ComputeConfig = SubgraphSettings;

/** The only reader of process.env for this deployable; throws a ConfigError listing every problem. */
export function loadComputeConfig(env: Readonly<Record<string, string | undefined>> = process.env): ComputeConfig {
  return subgraphSettings(loadConfig(schema, env));
}
