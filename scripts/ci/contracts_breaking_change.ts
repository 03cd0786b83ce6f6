/**
 * Gate: no unapproved breaking change against the last released contracts (committed under doc/api/released/,
 * so it works in a fresh single-branch clone without git history).
 *   - REST: `optic diff doc/api/released/openapi.yaml doc/api/openapi.yaml --check` with scripts/ci/lib/optic-standard.yml
 *     (removed operations, newly required request fields or parameters, narrowed types, removed response fields…).
 *   - GraphQL: graphql-inspector's diff of doc/api/released/supergraph-api.graphql against the API schema of the
 *     freshly composed supergraph (removed fields/types, new required arguments or input fields…).
 * A breaking change passes only when an entry of doc/api/breaking-changes.yaml (`contract`, `match` — a substring of
 * the reported change, e.g. `DELETE /api/v1/x` or `User.email` —, `reason`, `approved_by`) matches it.
 * `npx tsx scripts/release-contracts.ts` snapshots new released files (then the approvals can be emptied).
 * Run: npx tsx scripts/ci/contracts_breaking_change.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readApprovals, type BreakingChangeApproval, type ContractKind } from './lib/breaking-annotations.js';
import { isMain, runGateCli, type GateResult } from './lib/gate.js';
import { graphqlBreakingChanges } from './lib/graphql-diff.js';
import { opticDiff } from './lib/optic-diff.js';
import { toolsRoot } from './lib/repo.js';
import { composeApiSchemaSdl } from './lib/supergraph.js';

export const releasedOpenApi = 'doc/api/released/openapi.yaml';
export const releasedApiSchema = 'doc/api/released/supergraph-api.graphql';
export const approvalsFile = 'doc/api/breaking-changes.yaml';

export interface BreakingChangeOptions {
  readonly root: string;
  /** The current GraphQL API schema; defaults to composing `root`'s subgraphs. */
  readonly currentApiSchema?: (root: string) => Promise<string | undefined>;
}

export async function checkBreakingChanges(options: BreakingChangeOptions): Promise<GateResult> {
  const { root } = options;
  const problems: string[] = [];
  const notes: string[] = [];
  const { approvals, problems: approvalProblems } = readApprovals(join(root, approvalsFile));
  problems.push(...approvalProblems);
  const used = new Set<BreakingChangeApproval>();
  const judge = (contract: ContractKind, changes: readonly string[]) => {
    for (const change of changes) {
      const approval = approvals.find((a) => a.contract === contract && change.includes(a.match));
      if (approval) {
        used.add(approval);
        notes.push(`approved ${contract} breaking change (${approval.approved_by}: ${approval.reason}): ${change}`);
      } else {
        problems.push(`${contract} breaking change: ${change}`);
      }
    }
  };

  if (!existsSync(join(root, releasedOpenApi))) notes.push(`${releasedOpenApi} does not exist yet (nothing released): REST not compared`);
  else if (!existsSync(join(root, 'doc/api/openapi.yaml'))) problems.push('doc/api/openapi.yaml is missing but a released REST contract exists');
  else {
    const result = await opticDiff(root, releasedOpenApi, 'doc/api/openapi.yaml');
    if (result.error) problems.push(result.error);
    judge('openapi', result.breaking);
  }

  if (!existsSync(join(root, releasedApiSchema))) notes.push(`${releasedApiSchema} does not exist yet (nothing released): GraphQL not compared`);
  else {
    try {
      const current = await (options.currentApiSchema ?? composeApiSchemaSdl)(root);
      if (current === undefined) problems.push('a released GraphQL API schema exists but there is no subgraph schema to compose');
      else judge('graphql', await graphqlBreakingChanges(readFileSync(join(root, releasedApiSchema), 'utf8'), current));
    } catch (error) {
      problems.push(`cannot compose the current supergraph to compare it: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  for (const approval of approvals) {
    if (!used.has(approval)) notes.push(`${approvalsFile}: "${approval.match}" (${approval.contract}) matches no breaking change any more; remove it`);
  }
  if (problems.some((p) => p.includes('breaking change:'))) {
    problems.push(`to accept a breaking change on purpose, add {contract, match, reason, approved_by} to ${approvalsFile}`);
  }
  return { problems, notes };
}

if (isMain(import.meta.url)) await runGateCli('contracts_breaking_change', () => checkBreakingChanges({ root: toolsRoot }));
