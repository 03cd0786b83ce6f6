import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import { AppError } from '@gpuaas/errors';

/**
 * Validation rule: refuses operations nested deeper than `maxDepth` fields with `query_too_complex`, before any
 * subgraph is called. Introspection fields (`__schema`, `__type`…) do not count: the standard introspection
 * query is deep by design and introspection is switched off in production anyway.
 */
export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const measure = createDepthMeasure(fragments);
    return {
      OperationDefinition(operation) {
        const depth = measure(operation.selectionSet);
        if (depth <= maxDepth) return;
        const message = `The operation is nested ${depth} levels deep; at most ${maxDepth} are allowed`;
        context.reportError(
          new GraphQLError(message, {
            nodes: [operation],
            extensions: { code: 'query_too_complex' },
            originalError: new AppError('query_too_complex', message, { max_depth: maxDepth, depth }),
          }),
        );
      },
    };
  };
}

function createDepthMeasure(fragments: ReadonlyMap<string, FragmentDefinitionNode>) {
  // A fragment's depth does not depend on where it is spread, so each is measured once; `visiting` breaks cycles
  // (NoFragmentCyclesRule reports those, but rules run side by side so this one must not loop first).
  const fragmentDepth = new Map<string, number>();
  const visiting = new Set<string>();

  const measure = (selectionSet: SelectionSetNode): number => {
    let max = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        max = Math.max(max, 1 + (selection.selectionSet ? measure(selection.selectionSet) : 0));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, measure(selection.selectionSet));
      } else {
        max = Math.max(max, spreadDepth(selection.name.value));
      }
    }
    return max;
  };

  const spreadDepth = (name: string): number => {
    const known = fragmentDepth.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || visiting.has(name)) return 0;
    visiting.add(name);
    const depth = measure(fragment.selectionSet);
    visiting.delete(name);
    fragmentDepth.set(name, depth);
    return depth;
  };

  return measure;
}
