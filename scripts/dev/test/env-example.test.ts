import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadAccessConfig } from '../../../subgraphs/access/src/index.js';
import { loadComputeConfig } from '../../../subgraphs/compute/src/index.js';
import { loadBillingConfig } from '../../../subgraphs/billing/src/index.js';
import { loadWorkloadsConfig } from '../../../subgraphs/workloads/src/index.js';
import { loadPlatformConfig } from '../../../subgraphs/platform/src/index.js';
import { loadGatewayConfig } from '../../../gateway/src/index.js';
import { loadRestAdapterConfig } from '../../../rest-adapter/src/index.js';
import { loadWorkersConfig } from '../../../workers/src/index.js';
import { loadAgentConfig } from '../../../agent/src/index.js';

/** The assignments of .env.example as a process manager would pass them (comments and blank lines skipped). */
async function envExample(): Promise<Record<string, string>> {
  const text = await readFile(new URL('../../../.env.example', import.meta.url), 'utf8');
  const entries = text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)] as const;
    });
  return Object.fromEntries(entries);
}

function refusalOf(load: () => unknown, name: string): string[] {
  try {
    load();
    return [];
  } catch (error) {
    return [`${name}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

describe('.env.example', () => {
  it('is accepted as it stands by every deployable', async () => {
    const env = await envExample();
    expect(Object.keys(env)).toContain('DATABASE_URL');

    const loaders = [loadAccessConfig, loadComputeConfig, loadBillingConfig, loadWorkloadsConfig, loadPlatformConfig, loadGatewayConfig, loadRestAdapterConfig, loadWorkersConfig];
    const refusals = loaders.flatMap((load) => refusalOf(() => load(env), load.name));
    // The agent alone needs a way to join: a bootstrap token (or a state file holding a credential).
    refusals.push(...refusalOf(() => loadAgentConfig([], { ...env, BOOTSTRAP_TOKEN: 'bt_example' }), 'loadAgentConfig'));
    expect(refusals).toEqual([]);
  });
});
