/**
 * Renders the human-readable catalogs from their sources: doc/errors.md (error catalog), doc/policies.md (policy
 * catalog), doc/nats-subjects.md (AsyncAPI) and doc/api/API_Surface.md (OpenAPI). Pure functions; scripts/codegen.ts
 * calls generateDocs() with the in-memory bundles, so `npm run codegen -- --check` also catches stale docs.
 * `npx tsx scripts/gen-docs.ts [--check]` renders just these four from the bundles on disk.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorCatalog, type ErrorDefinition } from '@gpuaas/errors';
import { policyCatalog, type PolicyDefinition } from '@gpuaas/config';
import { readEventModel } from './ci/lib/asyncapi-model.js';
import { isMain } from './ci/lib/gate.js';
import { staleFiles, writeFiles, type GeneratedFile } from './ci/lib/generated-files.js';
import {
  acceptsIdempotencyKey,
  isMutation,
  listOperations,
  securitySchemesOf,
  type OperationEntry,
} from './ci/lib/openapi-model.js';
import { isObject, readYamlFile, toolsRoot, type JsonObject } from './ci/lib/repo.js';

export interface DocInputs {
  readonly openapi: JsonObject | undefined;
  readonly asyncapi: JsonObject | undefined;
  readonly errorCatalog: Readonly<Record<string, ErrorDefinition>>;
  readonly policyCatalog: Readonly<Record<string, PolicyDefinition>>;
}

const regenerate = 'run `npm run codegen` after changing the source';

function generatedLine(source: string): string {
  return `_Generated from ${source} by scripts/gen-docs.ts — do not edit; ${regenerate}._\n\n`;
}

/** A markdown table cell: one line, pipes escaped. */
function cell(value: string): string {
  return value.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

export function renderErrorsDoc(catalog: DocInputs['errorCatalog']): string {
  const rows = Object.entries(catalog).map(([code, d]) => [`\`${code}\``, String(d.httpStatus), d.retryable ? 'yes' : 'no', d.meaning]);
  return (
    generatedLine('packages/errors/src/catalog.ts') +
    '# Error codes\n\n' +
    'Every error leaves a boundary as `{code, message, correlation_id, details?}` — the REST body, or a GraphQL error\'s\n' +
    '`extensions` — with `code` from this table. `retryable` means the same request, unchanged, may succeed later.\n' +
    'Throw `AppError(code, …)` (or a helper such as `NotFound`) from `@gpuaas/errors`; never a bare `Error`.\n\n' +
    table(['code', 'HTTP status', 'retryable', 'meaning'], rows)
  );
}

export function renderPoliciesDoc(catalog: DocInputs['policyCatalog']): string {
  const rows = Object.entries(catalog).map(([key, d]) => [
    `\`${key}\``,
    `\`POLICY_${key.toUpperCase()}\``,
    String(d.default),
    d.unit,
    d.owner,
    d.meaning,
  ]);
  return (
    generatedLine('packages/config/src/policies.ts') +
    '# Policies\n\n' +
    'Operator-tunable rules. Each deployable resolves them at start-up from `POLICY_<KEY>` environment variables\n' +
    '(non-negative integers), falling back to the default; the owner is the domain whose code applies the policy.\n\n' +
    table(['key', 'env var', 'default', 'unit', 'owner', 'meaning'], rows)
  );
}

export function renderNatsSubjectsDoc(asyncapi: JsonObject | undefined): string {
  const head = generatedLine('doc/api/asyncapi.yaml') + '# NATS subjects\n\n';
  if (!asyncapi) return head + 'The AsyncAPI contract has no channels yet.\n';
  const { channels, operations } = readEventModel(asyncapi);
  const streamOf = (address: string, stream: string | undefined) => stream ?? address.split('.')[0]!.toUpperCase();

  const streams = new Map<string, Set<string>>();
  for (const channel of channels) {
    const stream = streamOf(channel.address, channel.stream);
    const tokens = streams.get(stream) ?? new Set<string>();
    tokens.add(`\`${channel.address.split('.')[0]}.>\``);
    streams.set(stream, tokens);
  }
  const streamRows = [...streams].map(([stream, filters]) => [
    `\`${stream}\``,
    [...filters].join(', '),
    String(channels.filter((c) => streamOf(c.address, c.stream) === stream).length),
  ]);
  if (!streams.has('DLQ')) streamRows.push(['`DLQ`', '`dlq.>`', 'one `dlq.<subject>` per subject below']);

  const producers = (address: string) => services(operations, address, 'send');
  const consumers = (address: string) => services(operations, address, 'receive');
  const subjectRows = channels.map((c) => [
    `\`${c.address}\``,
    `\`${streamOf(c.address, c.stream)}\``,
    c.messages.map((m) => (m.payloadSchemaName ? `\`${m.payloadSchemaName}\`` : 'inline')).join(', ') || '—',
    producers(c.address).join(', ') || '—',
    consumers(c.address).join(', ') || '—',
  ]);

  const allServices = [...new Set(operations.flatMap((o) => o.services))].sort();
  const matrixRows = channels.map((c) => [
    `\`${c.address}\``,
    ...allServices.map((service) => {
      const roles = [producers(c.address).includes(service) ? 'P' : '', consumers(c.address).includes(service) ? 'C' : ''].filter(Boolean);
      return roles.join('+');
    }),
  ]);

  const consumerRows = operations
    .filter((o) => o.action === 'receive' && o.address !== undefined)
    .map((o) => [
      `\`${o.address}\``,
      o.services.join(', ') || '—',
      `\`${o.id}\``,
      ...deadLettering(o),
    ]);

  return (
    head +
    'Every event travels in the envelope `{event_id, event_type, occurred_at, version, correlation_id, payload}`;\n' +
    '`event_type` equals the subject. Producers write the event to the outbox in the same transaction as the change;\n' +
    'the relay publishes it with `Nats-Msg-Id = event_id`.\n\n' +
    '## Streams\n\n' +
    table(['stream', 'subjects', 'contract subjects'], streamRows) +
    '\n## Subjects\n\n' +
    table(['subject', 'stream', 'payload schema', 'producers', 'consumers'], subjectRows) +
    '\n## Producer / consumer matrix\n\n' +
    'P = publishes (AsyncAPI `send`), C = consumes (`receive`); services are the operations\' `x-service`.\n\n' +
    (allServices.length === 0 ? 'No operation names a service yet.\n' : table(['subject', ...allServices.map((s) => `\`${s}\``)], matrixRows)) +
    '\n## Dead letters\n\n' +
    'Worker consumers are durable, ack explicitly and are idempotent by `event_id`. A message whose handler fails is redelivered\n' +
    'with backoff; after the consumer\'s maximum deliveries (`startConsumer`\'s `maxDeliver`, 5 unless the operation\n' +
    'sets `x-max-deliver`) — or at once when the envelope is malformed or the handler terminates it — it is published to\n' +
    '`dlq.<subject>` (stream `DLQ`) with the original envelope, the consumer, the delivery count and the last error,\n' +
    'and terminated on its own subject. Replaying a dead letter means republishing its envelope on the original subject.\n' +
    'Ephemeral consumers (an operation with `x-ephemeral: true` or described as ephemeral) never dead-letter: they log and skip.\n\n' +
    (consumerRows.length === 0 ? 'No consumers are declared yet.\n' : table(['subject', 'consumer', 'operation', 'max deliveries', 'dead letters to'], consumerRows))
  );
}

/** Max deliveries and where dead letters go; ephemeral consumers and the DLQ's own consumers never dead-letter. */
function deadLettering(operation: ReturnType<typeof readEventModel>['operations'][number]): [string, string] {
  if (operation.address!.startsWith('dlq.')) return ['—', '— (a dead letter is never dead-lettered again)'];
  if (operation.extensions['x-ephemeral'] === true || /\bephemeral\b/i.test(operation.description ?? '')) return ['—', '— (ephemeral: logs and skips)'];
  const maxDeliver = operation.extensions['x-max-deliver'];
  return [maxDeliver === undefined ? '5 (default)' : String(maxDeliver), `\`dlq.${operation.address}\``];
}

function services(operations: ReturnType<typeof readEventModel>['operations'], address: string, action: 'send' | 'receive'): string[] {
  return [...new Set(operations.filter((o) => o.address === address && o.action === action).flatMap((o) => o.services))].sort();
}

export function renderApiSurfaceDoc(openapi: JsonObject | undefined): string {
  const head = generatedLine('doc/api/openapi.yaml') + '# REST API surface\n\n';
  if (!openapi) return head + 'The OpenAPI contract is not bundled yet.\n';
  const operations = listOperations(openapi);
  const declaredTags = (Array.isArray(openapi['tags']) ? openapi['tags'] : []).filter(isObject);
  const groupOf = (entry: OperationEntry) => {
    const tags = Array.isArray(entry.operation['tags']) ? entry.operation['tags'] : [];
    return typeof tags[0] === 'string' ? tags[0] : 'untagged';
  };
  // declared tags first, in the contract's order; any other first tag after them
  const order = [...declaredTags.map((t) => String(t['name'])), ...new Set(operations.map(groupOf))].filter((t, i, all) => all.indexOf(t) === i);
  let body =
    'Grouped by each operation\'s first tag. `auth` lists the accepted security schemes (`none` = public);\n' +
    '`idempotent` is `yes` for reads and for mutations that accept `X-Idempotency-Key`.\n';
  for (const tag of order) {
    const inTag = operations.filter((entry) => groupOf(entry) === tag);
    if (inTag.length === 0) continue;
    const description = declaredTags.find((t) => t['name'] === tag)?.['description'];
    body += `\n## ${tag} (${inTag.length})\n\n${typeof description === 'string' ? `${description.trim()}\n\n` : ''}`;
    body += table(
      ['method', 'path', 'operationId', 'summary', 'auth', 'idempotent'],
      inTag.map((entry) => [
        entry.method.toUpperCase(),
        `\`${entry.path}\``,
        typeof entry.operation['operationId'] === 'string' ? `\`${entry.operation['operationId']}\`` : '—',
        typeof entry.operation['summary'] === 'string' ? entry.operation['summary'] : '',
        securitySchemesOf(openapi, entry.operation).join(', ') || 'none',
        !isMutation(entry.method) || acceptsIdempotencyKey(openapi, entry) ? 'yes' : 'no',
      ]),
    );
  }
  return head + `${operations.length} operations.\n\n` + body;
}

export function generateDocs(inputs: DocInputs): GeneratedFile[] {
  return [
    { path: 'doc/errors.md', content: renderErrorsDoc(inputs.errorCatalog) },
    { path: 'doc/policies.md', content: renderPoliciesDoc(inputs.policyCatalog) },
    { path: 'doc/nats-subjects.md', content: renderNatsSubjectsDoc(inputs.asyncapi) },
    { path: 'doc/api/API_Surface.md', content: renderApiSurfaceDoc(inputs.openapi) },
  ];
}

/** The catalogs as this checkout defines them (the docs of any root render the code's catalogs). */
export const codeCatalogs = { errorCatalog, policyCatalog } as const;

function main(): void {
  const root = toolsRoot;
  const readBundle = (kind: string) => {
    const path = join(root, 'doc/api', `${kind}.yaml`);
    return existsSync(path) ? (readYamlFile(path) as JsonObject) : undefined;
  };
  const files = generateDocs({ openapi: readBundle('openapi'), asyncapi: readBundle('asyncapi'), ...codeCatalogs });
  if (process.argv.includes('--check')) {
    const stale = staleFiles(root, files);
    for (const path of stale) process.stderr.write(`${path} is stale: run \`npm run codegen\` and commit the result.\n`);
    if (stale.length > 0) process.exitCode = 1;
    return;
  }
  for (const path of writeFiles(root, files)) process.stdout.write(`wrote ${path}\n`);
}

if (isMain(import.meta.url)) main();
