import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** What every gate returns: problems fail the gate; notes are printed but never fail it. */
export interface GateResult {
  readonly problems: string[];
  readonly notes: string[];
}

export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && importMetaUrl === pathToFileURL(realpathSync(entry)).href;
}

/** The thin CLI around a gate function: readable output, exit 1 on problems, 2 when the gate itself broke. */
export async function runGateCli(name: string, check: () => Promise<GateResult>): Promise<void> {
  try {
    const { problems, notes } = await check();
    for (const note of notes) process.stdout.write(`  note: ${note}\n`);
    if (problems.length === 0) {
      process.stdout.write(`✔ ${name}: ok\n`);
      return;
    }
    process.stderr.write(`✖ ${name}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
    for (const problem of problems) process.stderr.write(`  - ${problem.replace(/\n/g, '\n    ')}\n`);
    process.exitCode = 1;
  } catch (error) {
    process.stderr.write(`✖ ${name}: the gate could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  }
}
