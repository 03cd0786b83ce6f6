import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { toolsRoot } from './repo.js';

export interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment that keeps the contract tools offline, quiet and colourless. */
const offlineEnv = {
  OPTIC_TELEMETRY_LEVEL: 'off',
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  CI: 'true',
};

/** Runs an installed CLI from this checkout's node_modules/.bin (never npx: no download, no lookup). */
export function runTool(bin: string, args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(toolsRoot, 'node_modules/.bin', bin), args, {
      cwd: options.cwd,
      env: { ...process.env, ...offlineEnv, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
