import { join } from 'node:path';
import { toolsRoot } from './repo.js';
import { runTool } from './tools.js';

export interface OpticDiff {
  /** One line per failed breaking-change check: `POST /b › request › body application/json › …: [rule] message`. */
  readonly breaking: string[];
  /** Set when optic failed without reporting checks (unreadable spec, crash): the gate must fail on it. */
  readonly error: string | undefined;
}

const methods = 'GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE';
const operationHeader = new RegExp(`^(?:[x✓!-]\\s+)?((?:${methods}) \\S+):(?:\\s+(.*))?$`);
const failure = /^x \[(.+?)\] (.*)$/;

/** `optic diff <released> <current> --check` with the repo's standard (major-version bumps do not skip checks). */
export async function opticDiff(cwd: string, released: string, current: string): Promise<OpticDiff> {
  const run = await runTool('optic', ['diff', released, current, '--check', '--standard', join(toolsRoot, 'scripts/ci/lib/optic-standard.yml')], {
    cwd,
    env: { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --require ${join(toolsRoot, 'scripts/ci/lib/optic-ajv-shim.cjs')}`.trim() },
  });
  const breaking = parseOpticOutput(run.stdout);
  if (run.code !== 0 && breaking.length === 0) {
    return { breaking, error: `optic diff exited ${run.code} without reporting checks:\n${(run.stderr || run.stdout).trim().slice(-2000)}` };
  }
  return { breaking, error: undefined };
}

/** Reads optic's text report: operation headers, nested `- context:` lines, and `x [rule] message` failures. */
export function parseOpticOutput(output: string): string[] {
  const found: string[] = [];
  let operation = 'specification';
  let context: Array<{ indent: number; text: string }> = [];
  for (const raw of output.split('\n')) {
    const text = raw.trim();
    if (text === '') continue;
    const indent = raw.length - raw.trimStart().length;
    const header = indent === 0 ? operationHeader.exec(text) : null;
    if (header) {
      operation = header[2] ? `${header[1]}: ${header[2]}` : header[1]!;
      context = [];
      continue;
    }
    if (text.startsWith('- ')) {
      context = context.filter((c) => c.indent < indent);
      context.push({ indent, text: text.slice(2).replace(/:\s*$/, '') });
      continue;
    }
    const failed = failure.exec(text);
    // a removed operation also fails a check per response and property it had; its removal says it all
    if (failed && operation.endsWith(': removed') && context.some((c) => c.indent < indent)) continue;
    if (failed) {
      const where = [operation, ...context.filter((c) => c.indent < indent).map((c) => c.text)].join(' › ');
      found.push(`${where}: [${failed[1]}] ${failed[2]}`);
    }
  }
  return found;
}
