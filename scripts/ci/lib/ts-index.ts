import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** A named piece of code: a function, method, object property or variable, with the node that holds its body. */
export interface Definition {
  readonly name: string;
  readonly file: string;
  readonly body: ts.Node;
  /** Declarations (functions, variables, classes) may be referenced by name; members only by being called. */
  readonly kind: 'declaration' | 'member';
}

export interface CodeIndex {
  readonly sources: ReadonlyMap<string, ts.SourceFile>;
  readonly definitions: ReadonlyMap<string, readonly Definition[]>;
}

export function parseFile(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/** Indexes every named function-like or value in the files, by name (the by-name call graph the guards walk). */
export function indexFiles(paths: readonly string[]): CodeIndex {
  const sources = new Map<string, ts.SourceFile>();
  const definitions = new Map<string, Definition[]>();
  const add = (name: string, file: string, body: ts.Node | undefined, kind: Definition['kind'] = 'declaration') => {
    if (!body) return;
    const list = definitions.get(name) ?? [];
    list.push({ name, file, body, kind });
    definitions.set(name, list);
  };
  for (const path of paths) {
    const source = parseFile(path);
    sources.set(path, source);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionDeclaration(node) && node.name) add(node.name.text, path, node);
      else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) add(node.name.text, path, node.initializer);
      else if ((ts.isMethodDeclaration(node) || ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node)) && node.name) {
        const name = propertyName(node.name);
        if (name) add(name, path, ts.isMethodDeclaration(node) ? node : node.initializer, 'member');
      } else if (ts.isShorthandPropertyAssignment(node)) add(node.name.text, path, node.name, 'member');
      else if (ts.isClassDeclaration(node) && node.name) add(node.name.text, path, node);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { sources, definitions };
}

export function propertyName(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)) return name.text;
  return undefined;
}

/** Files reached from `file` through relative imports, up to `depth` levels (the file itself included). */
export function relativeImportClosure(file: string, depth: number): string[] {
  const seen = new Set<string>([file]);
  let frontier = [file];
  for (let level = 0; level < depth; level++) {
    const next: string[] = [];
    for (const current of frontier) {
      for (const statement of parseFile(current).statements) {
        const specifier = ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement) ? statement.moduleSpecifier : undefined;
        if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
        const target = resolveModule(resolve(dirname(current), specifier.text));
        if (target && !seen.has(target)) {
          seen.add(target);
          next.push(target);
        }
      }
    }
    frontier = next;
  }
  return [...seen];
}

/** NodeNext imports say `.js` for a `.ts` file; folders resolve to their index. */
function resolveModule(base: string): string | undefined {
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`, base];
  return candidates.find((candidate) => candidate.endsWith('.ts') && existsSync(candidate));
}

/**
 * Names a node's code leads to: what it calls (`suspendUser(…)`, `services.users.suspend(…)`) and the plain
 * identifiers it uses (a handler passed by name, a GraphQL document constant). Plain identifiers are followed to
 * declarations only, so a common word such as `input` never leads into an unrelated object's property.
 */
function referencedNames(node: ts.Node): { called: Set<string>; used: Set<string> } {
  const called = new Set<string>();
  const used = new Set<string>();
  const visit = (child: ts.Node): void => {
    if (ts.isCallExpression(child) || ts.isNewExpression(child)) {
      const callee = child.expression;
      if (ts.isIdentifier(callee)) called.add(callee.text);
      else if (ts.isPropertyAccessExpression(callee)) called.add(callee.name.text);
    } else if (ts.isIdentifier(child)) used.add(child.text);
    ts.forEachChild(child, visit);
  };
  visit(node);
  return { called, used };
}

export function isCallTo(node: ts.Node, name: string): boolean {
  if (!ts.isCallExpression(node)) return false;
  const callee = node.expression;
  return (ts.isIdentifier(callee) && callee.text === name) || (ts.isPropertyAccessExpression(callee) && callee.name.text === name);
}

export function containsNode(node: ts.Node, predicate: (node: ts.Node) => boolean): boolean {
  if (predicate(node)) return true;
  return ts.forEachChild(node, (child) => (containsNode(child, predicate) ? true : undefined)) ?? false;
}

/**
 * Walks from `start` through the definitions its code names, `maxHops` deep, and answers the first visited
 * definition (or the start) in which `predicate` holds. Names are looked up in `preferred` files first (the
 * import closure), then anywhere in the index (services handed over through a context object).
 */
export function findOnPath(
  index: CodeIndex,
  start: readonly ts.Node[],
  predicate: (node: ts.Node) => boolean,
  options: { maxHops: number; preferred?: ReadonlySet<string> },
): ts.Node | undefined {
  const visited = new Set<ts.Node>();
  let frontier = [...start];
  for (let hop = 0; hop <= options.maxHops && frontier.length > 0; hop++) {
    const next: ts.Node[] = [];
    for (const node of frontier) {
      if (visited.has(node)) continue;
      visited.add(node);
      if (containsNode(node, predicate)) return node;
      const { called, used } = referencedNames(node);
      const follow = (name: string, declarationsOnly: boolean) => {
        const all = (index.definitions.get(name) ?? []).filter((d) => !declarationsOnly || d.kind === 'declaration');
        const preferred = options.preferred ? all.filter((d) => options.preferred!.has(d.file)) : [];
        for (const definition of preferred.length > 0 ? preferred : all) if (!visited.has(definition.body)) next.push(definition.body);
      };
      for (const name of called) follow(name, false);
      for (const name of used) if (!called.has(name)) follow(name, true);
    }
    frontier = next;
  }
  return undefined;
}
