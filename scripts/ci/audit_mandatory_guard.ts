/**
 * Gate: every privileged (admin) mutation writes an audit_logs row (doc/audit.md).
 * Convention it enforces:
 *   - A GraphQL admin mutation is a `Mutation` field whose name starts with `admin` in subgraphs/<domain>/schema.graphql
 *     (a Mutation field described as admin-only but named otherwise fails: rename it, so this guard sees it).
 *   - Its resolver lives under subgraphs/<domain>/src/resolvers/** (an object property, method or function named
 *     like the field). From the resolver the guard follows what it calls — through the resolver file's relative
 *     imports first (two levels), then the rest of the subgraph's src (services handed over in the context) — up to
 *     three calls deep, and requires a `recordAudit(` call (from @gpuaas/db) on that path.
 *   - A REST operation tagged `admin` that mutates (POST/PUT/PATCH/DELETE) must, from its handler in
 *     rest-adapter/src/operations/** (registered under its operationId), either send a GraphQL mutation selecting an
 *     audited `admin*` field, or reach `recordAudit(` itself. Operations without a handler yet are skipped.
 * A resolver or handler that only throws NotImplemented is "not served yet" and reported as a note.
 * Run: npx tsx scripts/ci/audit_mandatory_guard.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Kind, parse, type FieldDefinitionNode } from 'graphql';
import ts from 'typescript';
import { isMain, runGateCli, type GateResult } from './lib/gate.js';
import { describeOperation, isMutation, listOperations } from './lib/openapi-model.js';
import { listDirs, listFiles, readYamlFile, repoPath, toolsRoot, type JsonObject } from './lib/repo.js';
import { containsNode, findOnPath, indexFiles, isCallTo, relativeImportClosure, type CodeIndex } from './lib/ts-index.js';

const maxHops = 3;
const auditCall = (node: ts.Node) => isCallTo(node, 'recordAudit');
const notImplemented = (node: ts.Node) =>
  isCallTo(node, 'NotImplemented') || (ts.isStringLiteral(node) && node.text === 'not_implemented');

interface AdminMutation {
  readonly subgraph: string;
  readonly field: string;
}

export async function checkAuditMandatory(options: { root: string }): Promise<GateResult> {
  const { root } = options;
  const problems: string[] = [];
  const notes: string[] = [];
  const audited = new Set<string>();

  for (const dir of listDirs(join(root, 'subgraphs'))) {
    const schemaPath = join(dir, 'schema.graphql');
    if (!existsSync(schemaPath)) continue;
    const subgraph = repoPath(root, dir);
    // The SDL may be split: schema.graphql plus one schema/<area>.graphql per area (compute).
    const areaDir = join(dir, 'schema');
    const areaSdl = existsSync(areaDir) ? listFiles(areaDir, ['.graphql']).map((file) => readFileSync(file, 'utf8')) : [];
    const fields = mutationFields([readFileSync(schemaPath, 'utf8'), ...areaSdl].join('\n'));
    for (const field of fields) {
      const description = field.description?.value ?? '';
      if (!field.name.value.startsWith('admin') && /\badmin[- ]only\b|\badmin role\b/i.test(description)) {
        problems.push(`${subgraph}/schema.graphql: Mutation.${field.name.value} is described as admin-only; name it admin${capitalize(field.name.value)} so the audit guard covers it`);
      }
    }
    const admin = fields.filter((f) => f.name.value.startsWith('admin')).map((f) => ({ subgraph, field: f.name.value }));
    if (admin.length === 0) continue;
    const verdicts = checkResolvers(root, dir, admin);
    problems.push(...verdicts.problems);
    notes.push(...verdicts.notes);
    for (const field of verdicts.audited) audited.add(field);
  }

  const rest = checkRestAdminOperations(root, audited);
  problems.push(...rest.problems);
  notes.push(...rest.notes);
  return { problems, notes };
}

function mutationFields(sdl: string): FieldDefinitionNode[] {
  return parse(sdl).definitions.flatMap((definition) =>
    (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) && definition.name.value === 'Mutation'
      ? [...(definition.fields ?? [])]
      : [],
  );
}

function checkResolvers(root: string, dir: string, admin: readonly AdminMutation[]) {
  const problems: string[] = [];
  const notes: string[] = [];
  const audited: string[] = [];
  const sourceFiles = listFiles(join(dir, 'src'), ['.ts']);
  // src/resolvers/**, or one src/<area>/resolvers.ts per area where the subgraph is split by area.
  const resolverFiles = sourceFiles.filter((file) => file.includes('/src/resolvers/') || /\/src\/[^/]+\/resolvers\.ts$/.test(file));
  const index = indexFiles(sourceFiles);
  for (const { subgraph, field } of admin) {
    const starts = (index.definitions.get(field) ?? []).filter((d) => resolverFiles.includes(d.file));
    if (starts.length === 0) {
      notes.push(`${subgraph}: Mutation.${field} has no resolver under src/resolvers yet`);
      continue;
    }
    const preferred = new Set(starts.flatMap((d) => relativeImportClosure(d.file, 2)));
    const verdict = judgePath(index, starts.map((d) => d.body), preferred);
    const where = `${subgraph}: Mutation.${field} (${starts.map((d) => repoPath(root, d.file)).join(', ')})`;
    if (verdict === 'audited') audited.push(field);
    else if (verdict === 'not-implemented') notes.push(`${where} is not implemented yet`);
    else problems.push(`${where}: no recordAudit(…) call within ${maxHops} calls of the resolver; write the audit_logs row in the mutation's transaction (recordAudit from @gpuaas/db)`);
  }
  return { problems, notes, audited };
}

function judgePath(index: CodeIndex, starts: readonly ts.Node[], preferred?: ReadonlySet<string>): 'audited' | 'not-implemented' | 'missing' {
  if (findOnPath(index, starts, auditCall, { maxHops, ...(preferred ? { preferred } : {}) })) return 'audited';
  return implementations(index, starts).every((node) => containsNode(node, notImplemented)) ? 'not-implemented' : 'missing';
}

/** A resolver registered by name (`{ adminSuspendUser }`, `register('x', handler)`) is implemented by that declaration. */
function implementations(index: CodeIndex, starts: readonly ts.Node[]): ts.Node[] {
  return starts.flatMap((node) => {
    if (!ts.isIdentifier(node)) return [node];
    const declared = (index.definitions.get(node.text) ?? []).filter((d) => d.kind === 'declaration').map((d) => d.body);
    return declared.length > 0 ? declared : [node];
  });
}

/** REST admin mutations: their handler must call an audited admin* GraphQL mutation or recordAudit itself. */
function checkRestAdminOperations(root: string, audited: ReadonlySet<string>) {
  const problems: string[] = [];
  const notes: string[] = [];
  const contract = join(root, 'doc/api/openapi.yaml');
  const operationsDir = join(root, 'rest-adapter/src/operations');
  if (!existsSync(contract) || !existsSync(operationsDir)) return { problems, notes };
  const index = indexFiles(listFiles(join(root, 'rest-adapter/src'), ['.ts']));
  const handlerFiles = new Set(listFiles(operationsDir, ['.ts']));
  for (const entry of listOperations(readYamlFile(contract) as JsonObject)) {
    const tags = Array.isArray(entry.operation['tags']) ? entry.operation['tags'] : [];
    const operationId = entry.operation['operationId'];
    if (!tags.includes('admin') || !isMutation(entry.method) || typeof operationId !== 'string') continue;
    const starts = handlersOf(index, handlerFiles, operationId);
    if (starts.length === 0) continue;
    const where = `REST ${describeOperation(entry)}`;
    const sendsAuditedMutation = (node: ts.Node) => {
      const text = documentTextOf(node);
      if (text === undefined || !/\bmutation\b/.test(text)) return false;
      return [...text.matchAll(/\b(admin[A-Z]\w*)\s*[({]/g)].some((m) => audited.has(m[1]!));
    };
    if (findOnPath(index, starts, (node) => auditCall(node) || sendsAuditedMutation(node), { maxHops })) continue;
    if (judgePath(index, starts) === 'not-implemented') notes.push(`${where} is not implemented yet`);
    else problems.push(`${where}: its handler neither sends an audited admin* GraphQL mutation nor calls recordAudit(…) within ${maxHops} calls`);
  }
  return { problems, notes };
}

/**
 * The GraphQL text a node sends: an inline string, or a `doc('name')` call naming an operation document kept as
 * `name.graphql` beside the handler (the REST adapter's convention).
 */
function documentTextOf(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) return node.getText();
  if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'doc') return undefined;
  const [name] = node.arguments;
  if (!name || !ts.isStringLiteral(name)) return undefined;
  const path = join(dirname(node.getSourceFile().fileName), `${name.text}.graphql`);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** `{ adminSuspendUser: handler }`, `adminSuspendUser(ctx) {…}` or `register('adminSuspendUser', handler)`. */
function handlersOf(index: CodeIndex, files: ReadonlySet<string>, operationId: string): ts.Node[] {
  const found = (index.definitions.get(operationId) ?? []).filter((d) => files.has(d.file)).map((d) => d.body);
  for (const [file, source] of index.sources) {
    if (!files.has(file)) continue;
    const visit = (node: ts.Node): void => {
      if (isCallTo(node, 'register') && ts.isCallExpression(node)) {
        const [id, handler] = node.arguments;
        if (id && handler && ts.isStringLiteral(id) && id.text === operationId) found.push(handler);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

if (isMain(import.meta.url)) await runGateCli('audit_mandatory_guard', () => checkAuditMandatory({ root: toolsRoot }));
