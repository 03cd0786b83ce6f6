import { hostname as osHostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, commonEnv, loadConfig, port, z } from '@gpuaas/config';
import { driverKinds, type DriverKind } from './drivers/driver.js';
import { simulatedLayoutSchema, type SimulatedLayout } from './drivers/simulated/layout.js';

export const agentUsage = `Usage: gpuaas-agent --control-plane URL --bootstrap-token TOKEN [--driver simulated|nvidia] [--state-file PATH]
                    [--data-dir PATH] [--hostname NAME] [--simulated-layout JSON] [--health-port 4301]

Every option can also come from the environment (CONTROL_PLANE_URL, BOOTSTRAP_TOKEN, AGENT_DRIVER, AGENT_STATE_FILE,
AGENT_DATA_DIR, AGENT_HOSTNAME, SIMULATED_LAYOUT, HEALTH_PORT); an option on the command line wins. Prefer
BOOTSTRAP_TOKEN in the environment: arguments are visible in ps. Once registered, the node credential lives in the
state file and the bootstrap token is not needed again (it may then be left out). With --data-dir the agent also
serves browser terminals.
`;

const schema = z.object({
  NODE_ENV: commonEnv.NODE_ENV,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  CONTROL_PLANE_URL: z.string().url(),
  /** Needed only to register: a state file that already holds a credential makes it unnecessary. */
  BOOTSTRAP_TOKEN: z.string().min(1).optional(),
  AGENT_DRIVER: z.enum(driverKinds).default('simulated'),
  AGENT_STATE_FILE: z.string().min(1).optional(),
  /** Where allocations' working directories live; browser terminals are served only when it is set. */
  AGENT_DATA_DIR: z.string().min(1).optional(),
  AGENT_HOSTNAME: z.string().min(1).max(253).optional(),
  AGENT_MAX_CONCURRENT_TASKS: z.coerce.number().int().min(1).max(64).default(2),
  AGENT_TELEMETRY_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  SIMULATED_LAYOUT: z
    .string()
    .optional()
    .transform((text, context) => {
      if (text === undefined || text.trim() === '') return undefined;
      try {
        return simulatedLayoutSchema.parse(JSON.parse(text));
      } catch (error) {
        context.addIssue({ code: 'custom', message: `not a valid layout: ${(error as Error).message.slice(0, 300)}` });
        return z.NEVER;
      }
    }),
  SIMULATED_PROVISION_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(0),
  SIMULATED_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  HEALTH_HOST: z.string().default('127.0.0.1'),
  HEALTH_PORT: port(4301),
}).refine((env) => Boolean(env.BOOTSTRAP_TOKEN || env.AGENT_STATE_FILE), {
  path: ['BOOTSTRAP_TOKEN'],
  message: 'required unless AGENT_STATE_FILE holds a node credential',
  // Reported beside every other problem, not only once the rest parses.
  when: () => true,
});

export interface AgentConfig {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The rest-adapter's base URL; the agent API lives under `/internal/v1` there. */
  readonly controlPlaneUrl: string;
  /** One-time token that registers this node; exchanged for a node credential at registration. Unused (and may be
   *  absent) when the state file holds a credential for this control plane. */
  readonly bootstrapToken?: string | undefined;
  readonly driver: DriverKind;
  /** Where the node credential is kept; without one the agent registers on every start. */
  readonly stateFile?: string | undefined;
  /** Allocations' working directories (`<dataDir>/allocations/<id>`); the agent serves terminals only with one. */
  readonly dataDir?: string | undefined;
  /** The node's hostname as the operator created it (lower case). */
  readonly hostname: string;
  readonly maxConcurrentTasks: number;
  readonly telemetryIntervalSeconds: number;
  readonly simulated: {
    readonly layout?: SimulatedLayout;
    readonly provisionDelayMs: number;
    readonly failureRate: number;
  };
  readonly healthHost: string;
  /** 0 picks a free port. */
  readonly healthPort: number;
}

const flagToEnv = {
  'control-plane': 'CONTROL_PLANE_URL',
  'bootstrap-token': 'BOOTSTRAP_TOKEN',
  driver: 'AGENT_DRIVER',
  'state-file': 'AGENT_STATE_FILE',
  'data-dir': 'AGENT_DATA_DIR',
  hostname: 'AGENT_HOSTNAME',
  'simulated-layout': 'SIMULATED_LAYOUT',
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
    ...(parsed.BOOTSTRAP_TOKEN ? { bootstrapToken: parsed.BOOTSTRAP_TOKEN } : {}),
    driver: parsed.AGENT_DRIVER,
    ...(parsed.AGENT_STATE_FILE ? { stateFile: parsed.AGENT_STATE_FILE } : {}),
    ...(parsed.AGENT_DATA_DIR ? { dataDir: parsed.AGENT_DATA_DIR } : {}),
    hostname: (parsed.AGENT_HOSTNAME ?? osHostname()).toLowerCase(),
    maxConcurrentTasks: parsed.AGENT_MAX_CONCURRENT_TASKS,
    telemetryIntervalSeconds: parsed.AGENT_TELEMETRY_INTERVAL_SECONDS,
    simulated: {
      ...(parsed.SIMULATED_LAYOUT ? { layout: parsed.SIMULATED_LAYOUT } : {}),
      provisionDelayMs: parsed.SIMULATED_PROVISION_DELAY_MS,
      failureRate: parsed.SIMULATED_FAILURE_RATE,
    },
    healthHost: parsed.HEALTH_HOST,
    healthPort: parsed.HEALTH_PORT,
  };
}
