type Json = Record<string, unknown>;

/**
 * Replaces every local `$ref` with the object it points to, synchronously and in a copy. Recursive schemas
 * become object cycles, which openapi-backend's validator turns back into refs when it compiles.
 */
export function dereference<T extends object>(document: T): T {
  const root = structuredClone(document) as unknown as Json;
  const visited = new WeakSet<object>();

  const target = (pointer: string): unknown => {
    // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
    if (!pointer.startsWith('#/')) throw new Error(`only local references are supported: ${pointer}`);
    let node: unknown = root;
    for (const segment of pointer.slice(2).split('/')) {
      node = (node as Json | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
    if (node === undefined) throw new Error(`unresolved reference ${pointer}`);
    return node;
  };

  // Objects are rewritten in place; one already visited (or in progress, for a cycle) is returned as it is.
  const visit = (node: unknown): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    const ref = (node as Json)['$ref'];
    if (typeof ref === 'string') return visit(target(ref));
    if (visited.has(node)) return node;
    visited.add(node);
    if (Array.isArray(node)) node.forEach((item, index) => (node[index] = visit(item)));
    else for (const [key, value] of Object.entries(node as Json)) (node as Json)[key] = visit(value);
    return node;
  };

  return visit(root) as T;
}
