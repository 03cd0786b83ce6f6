import type { ContractOperation } from '../contract/load-contract.js';

interface PathPattern {
  readonly pattern: RegExp;
  readonly methods: Set<string>;
}

/** Answers which methods a concrete path allows, matching path templates the way openapi-backend's router does. */
export function createPathMatcher(operations: readonly ContractOperation[]) {
  const byTemplate = new Map<string, PathPattern>();
  for (const operation of operations) {
    let entry = byTemplate.get(operation.path);
    if (!entry) {
      const source = operation.path.split(/\{[^}]*\}/).map(escapeRegExp).join('[^/]+');
      entry = { pattern: new RegExp(`^${source}$`), methods: new Set() };
      byTemplate.set(operation.path, entry);
    }
    entry.methods.add(operation.method.toUpperCase());
  }
  const patterns = [...byTemplate.values()];
  return {
    allowedMethods(path: string): string[] {
      const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;
      const methods = new Set<string>();
      for (const { pattern, methods: these } of patterns) if (pattern.test(normalized)) these.forEach((m) => methods.add(m));
      return [...methods].sort();
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
