import { loadConfig, z } from '@gpuaas/config';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

/** The billing subgraph's environment; domain-specific variables join `subgraphEnv` here as the domain grows. */
const schema = z.object({ ...subgraphEnv(4103) }).superRefine(refineGatewaySecret);

export type BillingConfig = SubgraphSettings;

/** The only reader of process.env for this deployable; throws a ConfigError listing every problem. */
export function loadBillingConfig(env: Readonly<Record<string, string | undefined>> = process.env): BillingConfig {
  return subgraphSettings(loadConfig(schema, env));
}
