/**
 * Benchmark: what the front doors add to one authenticated read. Measures, in one run on this machine,
 *   rest     GET /api/v1/me at the REST adapter, in the gateway mode `npm start` runs (embedded: the gateway's
 *            engine in the adapter's process → access subgraph; --rest-gateway-mode remote: → gateway → access)
 *   gateway  the adapter's GetMe document at the gateway (→ access subgraph)
 *   subgraph the same query at the access subgraph directly, with a signed gateway identity
 * at a fixed request rate, interleaved in slices so drift (caches, CPU frequency) hits all three alike.
 * The services run as separate Node processes, as in production, over a fresh database and Redis prefix.
 *
 *   npx tsx bench/access-me.ts [--rate 200] [--duration 15] [--warmup 5] [--slices 5] [--out results.json]
 *                              [--rest-gateway-mode embedded|remote] [--gateway-front on|off]
 *                              [--cpu-prof gateway|subgraphs|rest [--cpu-prof-dir .tmp/bench-profiles]]
 *
 * Exits 2 when a target does not answer correctly yet (e.g. `me` or the REST handler not implemented).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { signIdentity, isPlatformRole } from '@gpuaas/auth';
import { createTestDatabase, createTestRedis } from '@gpuaas/testkit';
import { defaultOperationRegistry, isGraphqlHandler } from '@gpuaas/rest-adapter';
import { runFixedRate, summarize, type LoadSample, type LoadTarget, type Summary } from './support/fixed-rate-load.js';
import { startServiceProcess, type ServiceProcess } from './support/processes.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    slices: { type: 'string', default: '5' },
    'node-env': { type: 'string', default: 'production' },
    // The production default (and npm start's) is embedded; remote is for comparing with the HTTP hop.
    'rest-gateway-mode': { type: 'string', default: 'embedded' },
    // off: the gateway serves /graphql through Express only (its node:http front for JSON POSTs disabled).
    'gateway-front': { type: 'string', default: 'on' },
    out: { type: 'string' },
    // Writes a V8 CPU profile of one service process (subgraphs, gateway or rest) into this folder.
    'cpu-prof': { type: 'string' },
    'cpu-prof-dir': { type: 'string', default: '.tmp/bench-profiles' },
  },
});
const rate = Number(args.rate);
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const slices = Number(args.slices);
const restGatewayMode = args['rest-gateway-mode'];
if (restGatewayMode !== 'embedded' && restGatewayMode !== 'remote') throw new Error('--rest-gateway-mode is embedded or remote');
const gatewayFront = args['gateway-front'];
if (gatewayFront !== 'on' && gatewayFront !== 'off') throw new Error('--gateway-front is on or off');

// The gateway and subgraph targets send the very document the adapter sends for GET /api/v1/me, so the
// difference between targets is the adapter (or the gateway), not a different selection.
const getMe = defaultOperationRegistry().get('getMe');
if (!isGraphqlHandler(getMe)) throw new Error('the REST adapter does not serve getMe through a GraphQL document');
const ME_DOCUMENT = getMe.document;

class TargetNotReady extends Error {}

async function graphql(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: unknown[] } };
}

/** Creates the benchmark user through the real register mutation and returns its access token. */
async function seedUser(gatewayUrl: string): Promise<{ userId: string; email: string; accessToken: string }> {
  const email = `bench-${randomBytes(6).toString('hex')}@example.test`;
  const { status, body } = await graphql(
    `${gatewayUrl}/graphql`,
    'mutation Register($input: RegisterInput!) { register(input: $input) { user { id } tokens { accessToken } } }',
    { input: { email, password: `Bench-${randomBytes(12).toString('base64url')}-9`, displayName: 'Bench User' } },
  );
  const registration = body.data?.['register'] as { user: { id: string }; tokens: { accessToken: string } } | undefined;
  if (!registration) throw new TargetNotReady(`register did not succeed (HTTP ${status}): ${JSON.stringify(body.errors)}`);
  return { userId: registration.user.id, email, accessToken: registration.tokens.accessToken };
}

function meMatches(userId: string) {
  return (status: number, text: string): boolean => {
    if (status !== 200) return false;
    try {
      const body = JSON.parse(text) as { id?: string; data?: { me?: { id?: string } }; errors?: unknown };
      return body.errors === undefined && (body.data?.me?.id ?? body.id) === userId;
    } catch {
      return false;
    }
  };
}

async function checkOnce(target: LoadTarget): Promise<void> {
  const response = await fetch(target.url, { method: target.method, headers: target.headers, ...(target.body ? { body: target.body } : {}) });
  const text = await response.text();
  if (!target.check(response.status, text)) throw new TargetNotReady(`${target.name} answered HTTP ${response.status}: ${text.slice(0, 400)}`);
}

function format(value: number): string {
  return value.toFixed(2);
}

async function main(): Promise<number> {
  const database = await createTestDatabase();
  const redis = await createTestRedis();
  const processes: ServiceProcess[] = [];
  const identitySecret = randomBytes(32).toString('hex');
  const loadBefore = os.loadavg().map((value) => Number(value.toFixed(2)));
  const env = {
    NODE_ENV: args['node-env'],
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    GATEWAY_IDENTITY_SECRET: identitySecret,
    MAIL_SENDER: 'outbox',
  };
  const profiled = (role: string) => (args['cpu-prof'] === role ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof-dir']}`] } : {});
  try {
    const subgraphs = await startServiceProcess('subgraphs', env, profiled('subgraphs'));
    processes.push(subgraphs);
    const graphqlOf = (name: string) => `${subgraphs.urls[name]}/graphql`;
    const gatewayEnv = {
      ...env,
      ACCESS_URL: graphqlOf('access'),
      COMPUTE_URL: graphqlOf('compute'),
      BILLING_URL: graphqlOf('billing'),
      WORKLOADS_URL: graphqlOf('workloads'),
      PLATFORM_URL: graphqlOf('platform'),
    };
    const gateway = await startServiceProcess('gateway', { ...gatewayEnv, BENCH_GATEWAY_FRONT: gatewayFront }, profiled('gateway'));
    processes.push(gateway);
    const gatewayUrl = gateway.urls['gateway']!;
    // The adapter gets the gateway's environment, as a deployment running it embedded does; GATEWAY_URL is read in
    // remote mode only.
    const rest = await startServiceProcess('rest', { ...gatewayEnv, GATEWAY_MODE: restGatewayMode, GATEWAY_URL: `${gatewayUrl}/graphql` }, profiled('rest'));
    processes.push(rest);

    const user = await seedUser(gatewayUrl);
    const claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    if (!isPlatformRole(claims['role']) || typeof claims['sid'] !== 'string' || typeof claims['tv'] !== 'number') {
      throw new TargetNotReady('the access token lacks role/sid/tv claims');
    }
    // Signed once with a long lifetime so the direct target measures the subgraph, not the loader's signing.
    const identity = await signIdentity(
      { userId: user.userId, role: claims['role'], sessionId: claims['sid'], tokenVersion: claims['tv'], correlationId: 'bench-direct' },
      { secret: identitySecret, ttlSeconds: 3600 },
    );
    const check = meMatches(user.userId);
    const graphqlBody = JSON.stringify({ query: ME_DOCUMENT.source, operationName: ME_DOCUMENT.name, variables: {} });
    const targets: LoadTarget[] = [
      { name: 'rest', url: `${rest.urls['rest']}/api/v1/me`, method: 'GET', headers: { authorization: `Bearer ${user.accessToken}`, accept: 'application/json' }, check },
      {
        name: 'gateway',
        url: `${gatewayUrl}/graphql`,
        method: 'POST',
        headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
        body: graphqlBody,
        check,
      },
      {
        name: 'subgraph',
        url: graphqlOf('access'),
        method: 'POST',
        headers: { 'x-gateway-identity': identity, 'content-type': 'application/json' },
        body: graphqlBody,
        check,
      },
    ];
    for (const target of targets) await checkOnce(target);

    const agents = new Map(targets.map((target) => [target.name, new http.Agent({ keepAlive: true, maxSockets: 64 })]));
    process.stderr.write(`warming up: ${args.warmup} s per target at ${rate} req/s\n`);
    for (const target of targets) await runFixedRate(target, rate, warmupMs, agents.get(target.name)!);

    const samples = new Map<string, LoadSample[]>(targets.map((target) => [target.name, []]));
    // CPU seconds each process spent while each target was measured: where a target's latency can come from.
    const cpuOf = () => ({ loader: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6, ...Object.fromEntries(processes.map((p) => [p.role, p.cpuSeconds()])) });
    const cpu = new Map<string, Record<string, number>>(targets.map((target) => [target.name, {}]));
    const sliceMs = durationMs / slices;
    for (let slice = 0; slice < slices; slice++) {
      // Rotate the order so no target always runs right after the same neighbour.
      const order = targets.map((_, index) => targets[(index + slice) % targets.length]!);
      for (const target of order) {
        process.stderr.write(`slice ${slice + 1}/${slices}: ${target.name}\n`);
        const before = cpuOf();
        samples.get(target.name)!.push(await runFixedRate(target, rate, sliceMs, agents.get(target.name)!));
        const after = cpuOf();
        const spent = cpu.get(target.name)!;
        for (const [role, seconds] of Object.entries(after)) spent[role] = (spent[role] ?? 0) + seconds - (before[role as keyof typeof before] ?? 0);
      }
    }
    for (const agent of agents.values()) agent.destroy();

    const results = Object.fromEntries(targets.map((target) => [target.name, summarize(samples.get(target.name)!)])) as Record<'rest' | 'gateway' | 'subgraph', Summary>;
    const restOverGatewayP50 = results.rest.p50 - results.gateway.p50;
    const gatewayOverSubgraphP95 = results.gateway.p95 - results.subgraph.p95;
    const report = {
      date: new Date().toISOString(),
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        memoryGib: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()}`,
        // Other work on the machine skews every figure; recorded so a reader can tell a quiet run from a busy one.
        loadAverageBefore: loadBefore,
        loadAverageAfter: os.loadavg().map((value) => Number(value.toFixed(2))),
      },
      node: process.version,
      nodeEnv: args['node-env'],
      restGatewayMode,
      gatewayFront,
      method: { ratePerSecond: rate, measuredSecondsPerTarget: durationMs / 1000, warmupSecondsPerTarget: warmupMs / 1000, slices },
      results,
      cpuMsPerRequest: Object.fromEntries(
        targets.map((target) => [target.name, Object.fromEntries(Object.entries(cpu.get(target.name)!).map(([role, seconds]) => [role, (seconds * 1000) / results[target.name as keyof typeof results].requests]))]),
      ) as Record<string, Record<string, number>>,
      budgets: {
        restOverGatewayP50Ms: { value: restOverGatewayP50, budget: 1, met: restOverGatewayP50 <= 1 },
        gatewayOverSubgraphP95Ms: { value: gatewayOverSubgraphP95, budget: 5, met: gatewayOverSubgraphP95 <= 5 },
      },
    };
    if (args.out) await writeFile(args.out, `${JSON.stringify(report, null, 2)}\n`);

    const cpuRoles = ['loader', ...processes.map((p) => p.role)];
    const rows = (['rest', 'gateway', 'subgraph'] as const).map((name) => {
      const r = results[name];
      return `| ${name} | ${r.requests} | ${r.failed} | ${r.reqPerSec.toFixed(1)} | ${format(r.p50)} | ${format(r.p95)} | ${format(r.p99)} | ${format(r.maxLagMs)} |`;
    });
    process.stdout.write(
      [
        `${report.date} · ${report.machine.cpu} × ${report.machine.cores} · ${report.machine.memoryGib} GiB · ${report.machine.os} · Node ${report.node} · NODE_ENV=${report.nodeEnv}`,
        `load average (1/5/15 min) before ${loadBefore.join(' / ')}, after ${report.machine.loadAverageAfter.join(' / ')}`,
        `${rate} req/s, ${durationMs / 1000} s per target in ${slices} interleaved slices, after ${warmupMs / 1000} s warm-up each; REST adapter GATEWAY_MODE=${restGatewayMode}, gateway front ${gatewayFront}`,
        '',
        '| target | requests | failed | req/s | p50 ms | p95 ms | p99 ms | loader max lag ms |',
        '|---|---|---|---|---|---|---|---|',
        ...rows,
        '',
        'CPU ms per request, by process, while each target was measured (includes anything else those processes did):',
        '',
        `| target | ${cpuRoles.join(' | ')} |`,
        `|---|${cpuRoles.map(() => '---').join('|')}|`,
        ...targets.map((target) => `| ${target.name} | ${cpuRoles.map((role) => format(report.cpuMsPerRequest[target.name]![role] ?? Number.NaN)).join(' | ')} |`),
        '',
        `REST adapter over gateway, median: ${format(restOverGatewayP50)} ms (budget ≤ 1 ms: ${report.budgets.restOverGatewayP50Ms.met ? 'met' : 'NOT met'})`,
        `gateway over subgraph, p95: ${format(gatewayOverSubgraphP95)} ms (budget ≤ 5 ms: ${report.budgets.gatewayOverSubgraphP95Ms.met ? 'met' : 'NOT met'})`,
        ...Object.entries(results).flatMap(([name, r]) => r.failures.map((failure) => `failure at ${name}: ${failure}`)),
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof TargetNotReady)) throw error;
    process.stderr.write(`A target is not ready to be measured: ${error.message}\n`);
    return 2;
  } finally {
    for (const service of processes.reverse()) await service.stop();
    await redis.cleanup();
    await database.drop();
  }
}

process.exitCode = await main();
