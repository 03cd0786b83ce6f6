/**
 * Gate: every HTTP router and every event consumer is traced, because each one is built through the libraries
 * that trace: service-kit's `createHttpService` / `createSubgraphService` (a server span and the correlation id per
 * request, request metrics) and the events library's `startConsumer` (a span and the envelope's correlation id per
 * message). So in deployable code — subgraphs/<domain>/src, gateway/src, rest-adapter/src, workers/src, agent/src
 * (not tests, not `src/testing/` helpers) — it flags what would bypass them:
 *   - `express()`, `http.createServer(` (or a `createServer(` imported from node:http/https), `.listen(`;
 *   - `new ApolloServer(` anywhere but gateway/src/server.ts (packages/service-kit is not deployable code);
 *   - `consumers.get(`, `.consume(`, `.fetch(` — pulling from JetStream directly (packages/events does that).
 * A line that must do one of these on purpose carries `// ci-allow observability_trace_gate: <reason>`.
 * Run: npx tsx scripts/ci/observability_trace_gate.ts
 */
import { isMain, runGateCli, type GateResult } from './lib/gate.js';
import { toolsRoot } from './lib/repo.js';
import { formatFinding, loadSources, scan, type Finding, type SourceFile } from './lib/source-scan.js';

const gate = 'observability_trace_gate';
export const deployableCode = ['subgraphs/*/src', 'gateway/src', 'rest-adapter/src', 'workers/src', 'agent/src'];

/** Files allowed to construct an ApolloServer: the gateway builds its own over the supergraph. */
export const apolloServerAllowed: readonly string[] = ['gateway/src/server.ts'];

const http = 'build HTTP servers with createHttpService/createSubgraphService from @gpuaas/service-kit (they trace every request)';
const consumer = 'consume events with startConsumer from @gpuaas/events (it wraps each message in a span)';
const importsNodeHttp = /from\s+['"](?:node:)?https?['"]|from\s+['"](?:node:)?http2['"]/;

export async function checkTracing(options: { root: string }): Promise<GateResult> {
  const findings: Finding[] = [];
  for (const file of loadSources(options.root, deployableCode)) {
    if (!/\/src\/testing\//.test(file.path)) findings.push(...scanFile(file));
  }
  return { problems: findings.map(formatFinding), notes: [] };
}

function scanFile(file: SourceFile): Finding[] {
  const flag = (pattern: RegExp, message: string) => scan(file, pattern, gate, () => message);
  return [
    ...flag(/\bexpress\s*\(\s*\)/g, `express(): ${http}`),
    ...flag(/\b(?:https?|http2)\s*\.\s*create(?:Secure)?Server\s*\(/g, `raw http server: ${http}`),
    ...(importsNodeHttp.test(file.code) ? flag(/(?<![.\w])create(?:Secure)?Server\s*\(/g, `raw http server: ${http}`) : []),
    ...flag(/\.\s*listen\s*\(/g, `.listen(): ${http}`),
    ...(apolloServerAllowed.includes(file.path) ? [] : flag(/\bnew\s+ApolloServer\s*\(/g, `new ApolloServer(): use createSubgraphService from @gpuaas/service-kit`)),
    ...flag(/\bconsumers\s*\.\s*get\s*\(/g, `consumers.get(): ${consumer}`),
    ...flag(/\.\s*consume\s*\(/g, `.consume(): ${consumer}`),
    ...scan(file, /\b(\w+)\s*\.\s*fetch\s*\(/g, gate, (match) => (match[1] === 'globalThis' || match[1] === 'window' ? undefined : `.fetch(): ${consumer}`)),
  ];
}

if (isMain(import.meta.url)) await runGateCli(gate, () => checkTracing({ root: toolsRoot }));
