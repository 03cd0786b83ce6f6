import { parseArgs } from 'node:util';
import { ConfigError, commonEnv, loadConfig, port, z } from '@gpuaas/config';
import { driverKinds, type DriverKind } from './drivers/driver.js';

export const agentUsage = `Usage: gpuaas-agent --control-plane URL --bootstrap-token TOKEN [--driver simulated|nvidia] [--health-port 4301]

Every option can also come from the environment (CONTROL_PLANE_URL, BOOTSTRAP_TOKEN, AGENT_DRIVER, HEALTH_PORT);
an option on the command line wins. Prefer BOOTSTRAP_TOKEN in the environment: arguments are visible in ps.
`;

const schema = z.object({
  NODE_ENV: commonEnv.NODE_ENV,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  CONTROL_PLANE_URL: z.string().url(),
  BOOTSTRAP_TOKEN: z.string().min(1),
  AGENT_DRIVER: z.enum(driverKinds).default('simulated'),
  HEALTH_HOST: z.string().default('127.0.0.1'),
  HEALTH_PORT: port(4301),
});

export interface AgentConfig {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The rest-adapter's base URL; the agent API lives under `/internal/v1` there. */
  readonly controlPlaneUrl: string;
  /** One-time token that registers this node; exchanged for node credentials at registration. */
  readonly bootstrapToken: string;
  readonly driver: DriverKind;
  readonly healthHost: string;
  /** 0 picks a free port. */
  readonly healthPort: number;
}

const flagToEnv = {
  'control-plane': 'CONTROL_PLANE_URL',
  'bootstrap-token': 'BOOTSTRAP_TOKEN',
  driver: 'AGENT_DRIVER',
  'health-port': 'HEALTH_PORT',
} as const;

/** Command-line flags as the env variables they override; unknown flags are a ConfigError. */
export function parseAgentArgs(argv: readonly string[]): Record<string, string> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(Object.keys(flagToEnv).map((flag) => [flag, { type: 'string' as const }])),
    }));
  } catch (error) {
    throw new ConfigError([error instanceof Error ? error.message : String(error)]);
  }
  const overrides: Record<string, string> = {};
  for (const [flag, envName] of Object.entries(flagToEnv)) {
    const value = values[flag];
    if (typeof value === 'string') overrides[envName] = value;
  }
  return overrides;
}

/** The agent's only reader of process.env (and argv); throws a ConfigError listing every problem. */
export function loadAgentConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): AgentConfig {
  const parsed = loadConfig(schema, { ...env, ...parseAgentArgs(argv) });
  return {
    nodeEnv: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    controlPlaneUrl: parsed.CONTROL_PLANE_URL.replace(/\/+$/, ''),
    bootstrapToken: parsed.BOOTSTRAP_TOKEN,
    driver: parsed.AGENT_DRIVER,
    healthHost: parsed.HEALTH_HOST,
    healthPort: parsed.HEALTH_PORT,
  };
}
