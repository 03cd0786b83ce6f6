import { existsSync } from 'node:fs';
import { isObject, readYamlFile } from './repo.js';

export type ContractKind = 'openapi' | 'graphql';

/** An approved breaking change: it matches every reported change whose text contains `match`. */
export interface BreakingChangeApproval {
  readonly contract: ContractKind;
  readonly match: string;
  readonly reason: string;
  readonly approved_by: string;
}

/** Reads doc/api/breaking-changes.yaml (a YAML list; absent or empty means nothing is approved). */
export function readApprovals(path: string): { approvals: BreakingChangeApproval[]; problems: string[] } {
  if (!existsSync(path)) return { approvals: [], problems: [] };
  const raw = readYamlFile(path) ?? [];
  if (!Array.isArray(raw)) return { approvals: [], problems: [`${path}: must be a YAML list of {contract, match, reason, approved_by}`] };
  const approvals: BreakingChangeApproval[] = [];
  const problems: string[] = [];
  raw.forEach((entry, index) => {
    const text = (key: string) => (isObject(entry) && typeof entry[key] === 'string' ? entry[key].trim() : '');
    const contract = text('contract');
    const missing = ['match', 'reason', 'approved_by'].filter((key) => text(key) === '');
    if ((contract !== 'openapi' && contract !== 'graphql') || missing.length > 0) {
      problems.push(`breaking-changes.yaml entry ${index + 1}: needs contract (openapi|graphql), match, reason and approved_by${missing.length ? ` (missing ${missing.join(', ')})` : ''}`);
      return;
    }
    approvals.push({ contract, match: text('match'), reason: text('reason'), approved_by: text('approved_by') });
  });
  return { approvals, problems };
}
