import type { FieldIssue } from '@gpuaas/errors';

/** The part of an Ajv error this module reads (openapi-backend hands Ajv's ErrorObject through). */
export interface AjvIssue {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: unknown;
  message?: string | undefined;
}

/** openapi-backend validates `{path, query, header, cookie, requestBody}`; the wire names are these. */
const locations: Record<string, string> = { requestBody: 'body', path: 'path', query: 'query', header: 'header', cookie: 'cookie' };

/**
 * Turns Ajv errors into one readable `{field, message}` each: `body.amount.currency`, `query.limit`,
 * `path.id`, `header.x-idempotency-key`. Branch noise under a failed oneOf/anyOf and `if` wrappers is
 * dropped, since the summary error already says what is wrong.
 */
export function toFieldIssues(errors: readonly AjvIssue[]): FieldIssue[] {
  const compound = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    if (compound.some((c) => c !== error && isBranchOf(error, c))) continue;
    const issue = toFieldIssue(error);
    const key = `${issue.field}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function isBranchOf(error: AjvIssue, compound: AjvIssue): boolean {
  const branchPrefix = `${compound.schemaPath}/`;
  return error.schemaPath.startsWith(branchPrefix) && error.instancePath.startsWith(compound.instancePath);
}

function toFieldIssue(error: AjvIssue): FieldIssue {
  const params = (error.params ?? {}) as Record<string, unknown>;
  const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
  switch (error.keyword) {
    case 'required':
      return { field: fieldName([...segments, String(params['missingProperty'])]), message: 'is required' };
    case 'additionalProperties': {
      const where = segments.length === 1 ? segments[0] : undefined;
      const message = where === 'query' ? 'is not a parameter of this operation' : 'is not an allowed property';
      return { field: fieldName([...segments, String(params['additionalProperty'])]), message };
    }
    case 'parse':
      return { field: 'body', message: 'malformed JSON' };
    case 'enum':
      return { field: fieldName(segments), message: `must be one of: ${(params['allowedValues'] as unknown[] | undefined)?.map(String).join(', ') ?? ''}` };
    case 'oneOf':
    case 'anyOf':
      return { field: fieldName(segments), message: 'does not match any of the allowed shapes' };
    case 'format':
      return { field: fieldName(segments), message: `must be a valid ${String(params['format'])}` };
    default:
      return { field: fieldName(segments), message: error.message ?? `fails the "${error.keyword}" rule` };
  }
}

/** `['requestBody', 'items', '0', 'name']` → `body.items[0].name`; the whole request body is just `body`. */
function fieldName(segments: readonly string[]): string {
  const [first, ...rest] = segments;
  if (first === undefined) return 'request';
  let name = first === 'requestBody' && rest.length === 0 ? 'body' : (locations[first] ?? first);
  for (const segment of rest) name += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  return name;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
