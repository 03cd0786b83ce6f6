import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn, type IPty } from 'node-pty';

export interface ShellOptions {
  /** The agent's data directory; each allocation gets `<dataDir>/allocations/<allocationId>`. */
  readonly dataDir: string;
  readonly allocationId: string;
  readonly cols?: number;
  readonly rows?: number;
}

/** The allocation's working directory: the shell starts there and it is the shell's HOME. */
export function allocationDir(dataDir: string, allocationId: string): string {
  // The id comes from the control plane, but a path is built from it: accept only what a uuid looks like.
  if (!/^[0-9a-f-]{36}$/i.test(allocationId)) throw new TypeError(`not an allocation id: ${allocationId}`);
  return join(dataDir, 'allocations', allocationId);
}

const SHELLS = ['/bin/bash', '/bin/sh'];

/**
 * A real PTY-backed login-less shell for the simulated driver, confined to the allocation's directory: cwd and
 * HOME are there, and the environment is built from scratch so none of the agent's own variables (its node
 * credential among them) reach the shell.
 */
export async function spawnAllocationShell(options: ShellOptions): Promise<IPty> {
  const home = allocationDir(options.dataDir, options.allocationId);
  await mkdir(home, { recursive: true, mode: 0o750 });
  const shell = SHELLS.find((candidate) => existsSync(candidate)) ?? '/bin/sh';
  const args = shell.endsWith('bash') ? ['--noprofile', '--norc'] : [];
  return spawn(shell, args, {
    name: 'xterm-256color',
    cols: options.cols ?? 80,
    rows: options.rows ?? 24,
    cwd: home,
    env: {
      HOME: home,
      PWD: home,
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      SHELL: shell,
      PS1: '\\w \\$ ',
      GPUAAS_ALLOCATION_ID: options.allocationId,
    },
  });
}
