import { loadConfig, z } from '@gpuaas/config';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

/** The workloads subgraph's environment; domain-specific variables join `subgraphEnv` here as the domain grows. */
const schema = z.object({ ...subgraphEnv(4104) }).superRefine(refineGatewaySecret);

export type WorkloadsConfig = SubgraphSettings;

/** The only reader of process.env for this deployable; throws a ConfigError listing every problem. */
export function loadWorkloadsConfig(env: Readonly<Record<string, string | undefined>> = process.env): WorkloadsConfig {
  return subgraphSettings(loadConfig(schema, env));
}
