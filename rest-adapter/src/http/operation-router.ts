import type { Operation } from 'openapi-backend';

export type RouteMatch =
  | { readonly kind: 'found'; readonly operation: Operation; readonly params: Record<string, string> }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'method_not_allowed' };

interface Template {
  readonly path: string;
  /** openapi-backend's own pattern for this template (`{x}` → `[^/]+`, unescaped), so matches are the same. */
  readonly pattern: RegExp;
  /** bath's pattern, which openapi-backend uses to read path parameters. */
  readonly paramsPattern: RegExp;
  readonly paramNames: readonly string[];
  readonly specificity: number;
  readonly byMethod: Map<string, Operation>;
}

/**
 * Matches a request to an operation with the same answers as openapi-backend's router (exact path first, then
 * templates by specificity, 405 when a template matches but not the method), precompiled at start-up: an exact
 * path is one map lookup and a templated one tests only the templates with as many segments as the path,
 * instead of rebuilding and regex-testing every operation of the contract on each request.
 */
export function createOperationRouter(operations: readonly Operation[]) {
  const templates = new Map<string, Template>();
  for (const operation of operations) {
    let template = templates.get(operation.path);
    if (!template) {
      template = compileTemplate(operation.path);
      templates.set(operation.path, template);
    }
    template.byMethod.set(operation.method.toLowerCase(), operation);
  }
  const bySegments = new Map<number, Template[]>();
  for (const template of templates.values()) {
    const bucket = bySegments.get(segmentCount(template.path)) ?? [];
    bucket.push(template);
    bySegments.set(segmentCount(template.path), bucket);
  }
  // Array.prototype.sort is stable, like the lodash orderBy openapi-backend uses: equal specificity keeps contract order.
  for (const bucket of bySegments.values()) bucket.sort((a, b) => b.specificity - a.specificity);

  return {
    match(method: string, rawPath: string): RouteMatch {
      const path = normalizePath(rawPath);
      const verb = method.trim().toLowerCase();
      const exact = templates.get(path)?.byMethod.get(verb);
      if (exact) return found(templates.get(path) as Template, exact, path);
      let pathMatched = false;
      for (const template of bySegments.get(segmentCount(path)) ?? []) {
        if (!template.pattern.test(path)) continue;
        pathMatched = true;
        const operation = template.byMethod.get(verb);
        if (operation) return found(template, operation, path);
      }
      return pathMatched ? { kind: 'method_not_allowed' } : { kind: 'not_found' };
    },
  };
}

function compileTemplate(path: string): Template {
  const paramNames = [...path.matchAll(/\{([A-Za-z0-9_-]+)\}/g)].map((match) => match[1] as string);
  return {
    path,
    pattern: new RegExp(`^${path.replace(/\{.*?\}/g, '[^/]+')}$`),
    paramsPattern: new RegExp(`^${path.replace(/\{[A-Za-z0-9_-]+\}/g, '([^\\/]*)')}$`),
    paramNames,
    specificity: path.replace(/\{.*?\}/g, '').length,
    byMethod: new Map(),
  };
}

/** Path parameters as bath reads them for openapi-backend: percent-decoded, `{}` when the template does not fit. */
function found(template: Template, operation: Operation, path: string): RouteMatch {
  const params: Record<string, string> = {};
  const values = template.paramNames.length > 0 ? template.paramsPattern.exec(path) : null;
  if (values) template.paramNames.forEach((name, index) => (params[name] = decodeURIComponent(values[index + 1] as string)));
  return { kind: 'found', operation, params };
}

/** openapi-backend's normalisation with apiRoot `/` and trailing slashes ignored. */
function normalizePath(rawPath: string): string {
  let path = rawPath.trim();
  if (!path.startsWith('/')) path = `/${path}`;
  path = (path.split('?')[0] as string).replace(/^\/\/?/, '/');
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path;
}

function segmentCount(path: string): number {
  let count = 0;
  for (let index = path.indexOf('/'); index !== -1; index = path.indexOf('/', index + 1)) count++;
  return count;
}
