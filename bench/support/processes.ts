import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServiceProcess {
  readonly role: string;
  readonly urls: Readonly<Record<string, string>>;
  /** User + system CPU seconds the process has used so far (Linux /proc); NaN where that cannot be read. */
  cpuSeconds(): number;
  /** Resident set size in bytes (Linux /proc); NaN where that cannot be read. */
  rssBytes(): number;
  stop(): Promise<void>;
}

/** Starts `serve.ts <role>` as its own Node process and resolves with the URLs it prints once listening. */
export async function startServiceProcess(
  role: string,
  env: Readonly<Record<string, string>>,
  /** label: how the process is reported (two processes of one role, e.g. the relay and the other worker roles). */
  options: { nodeArgs?: readonly string[]; timeoutMs?: number; label?: string } = {},
): Promise<ServiceProcess> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const label = options.label ?? role;
  // nodeArgs: e.g. ['--cpu-prof'] to profile one role (Node refuses those flags in NODE_OPTIONS). BENCH_CPU_PROF=
  // rest,workers does the same from outside any benchmark: profiles land in .tmp/bench-profiles/<role>/.
  const profiled = (process.env['BENCH_CPU_PROF'] ?? '').split(',').includes(label);
  const nodeArgs = [...(options.nodeArgs ?? []), ...(profiled ? ['--cpu-prof', `--cpu-prof-dir=${REPO_ROOT}.tmp/bench-profiles/${label}`] : [])];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', SERVE, role], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
  });
  try {
    const urls = await waitForReady(child, role, timeoutMs, () => stderr);
    return { role: label, urls, cpuSeconds: () => cpuSecondsOf(child.pid), rssBytes: () => rssBytesOf(child.pid), stop: () => stopProcess(child) };
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
}

function waitForReady(child: ChildProcess, role: string, timeoutMs: number, stderr: () => string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`${role} did not start within ${timeoutMs} ms\n${stderr()}`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      lines.close();
      reject(error);
    };
    lines.on('line', (line) => {
      // Anything else a service prints (warnings) is passed on: it may explain odd figures.
      if (!line.startsWith('READY ')) {
        process.stderr.write(`[${role}] ${line}\n`);
        return;
      }
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('READY '.length)) as Record<string, string>);
    });
    child.once('exit', (code) => fail(new Error(`${role} exited with code ${code} before it was ready\n${stderr()}`)));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

let clockTicks: number | undefined;

/** Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the `(comm)` field, which may hold spaces. */
export function cpuSecondsOf(pid: number | undefined): number {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of /proc/<pid>/status, in bytes. */
export function rssBytesOf(pid: number | undefined): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
