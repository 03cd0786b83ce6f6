import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The checkout these scripts live in: where node_modules and the tools are, whatever root a gate inspects. */
export const toolsRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readYamlFile(path: string): unknown {
  return parse(readFileSync(path, 'utf8'));
}

export function readTextIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Repo-relative path with forward slashes, for messages and allow-lists. */
export function repoPath(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}

const skippedDirs = new Set(['node_modules', 'generated', 'dist', 'coverage', '.git']);

/** Files under `dir` ending in one of `extensions`, sorted, skipping dependency and generated folders. */
export function listFiles(dir: string, extensions: readonly string[]): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (!skippedDirs.has(entry)) found.push(...listFiles(full, extensions));
    } else if (extensions.some((ext) => entry.endsWith(ext)) && !entry.endsWith('.d.ts')) {
      found.push(full);
    }
  }
  return found;
}

/** Folders directly under `parent` (e.g. each subgraph), sorted. */
export function listDirs(parent: string): string[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .sort()
    .map((name) => join(parent, name))
    .filter((full) => statSync(full).isDirectory());
}
