import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kind, parse, print, visit, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';

/** One GraphQL operation read from a `.graphql` file beside its handler, with the shared fragments it spreads. */
export interface GraphqlDocument {
  /** The operation's name (every document names its one operation, for logs and traces). */
  readonly name: string;
  /** What is sent to the gateway: the operation followed by the fragments it uses. */
  readonly source: string;
  readonly ast: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
}

/** Fragments shared by several documents live in `operations/fragments/*.graphql`, one or more per file. */
export const fragmentsFolder = fileURLToPath(new URL('../operations/fragments/', import.meta.url));

let sharedFragments: ReadonlyMap<string, FragmentDefinitionNode> | undefined;

function loadSharedFragments(): ReadonlyMap<string, FragmentDefinitionNode> {
  if (sharedFragments) return sharedFragments;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const file of readdirSync(fragmentsFolder).filter((name) => name.endsWith('.graphql')).sort()) {
    for (const definition of parse(readFileSync(fragmentsFolder + file, 'utf8')).definitions) {
      if (definition.kind !== Kind.FRAGMENT_DEFINITION) throw new TypeError(`${file} may hold fragments only`);
      if (fragments.has(definition.name.value)) throw new TypeError(`fragment ${definition.name.value} is defined twice`);
      fragments.set(definition.name.value, definition);
    }
  }
  sharedFragments = fragments;
  return fragments;
}

/** Reads `./name.graphql` relative to a module: `loadDocument(new URL('./get-me.graphql', import.meta.url))`. */
export function loadDocument(file: URL): GraphqlDocument {
  return parseDocument(readFileSync(file, 'utf8'), fileURLToPath(file));
}

export function parseDocument(text: string, origin = 'document'): GraphqlDocument {
  const own = parse(text);
  const operations = own.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const [operation] = operations;
  if (operations.length !== 1 || !operation?.name) throw new TypeError(`${origin} must hold exactly one named operation`);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of own.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const shared = loadSharedFragments();
  // Pull in shared fragments until every spread (also those inside pulled-in fragments) is defined.
  const pending = spreadsOf(own);
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (fragments.has(name)) continue;
    const fragment = shared.get(name);
    if (!fragment) throw new TypeError(`${origin} spreads ...${name}, which neither it nor ${fragmentsFolder} defines`);
    fragments.set(name, fragment);
    pending.push(...spreadsOf(fragment));
  }
  const ast: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments.values()] };
  return { name: operation.name.value, source: print(ast), ast, operation, fragments };
}

function spreadsOf(node: DocumentNode | FragmentDefinitionNode): string[] {
  const names: string[] = [];
  visit(node, { FragmentSpread: (spread) => void names.push(spread.name.value) });
  return names;
}
