import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One output of the codegen: a repo-relative path and its exact content. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

/** Paths whose content on disk differs from what the codegen would write (missing files included). */
export function staleFiles(root: string, files: readonly GeneratedFile[]): string[] {
  return files.filter((file) => {
    const target = join(root, file.path);
    return !existsSync(target) || readFileSync(target, 'utf8') !== file.content;
  }).map((file) => file.path);
}

/** Writes only the files that changed, so mtimes (and watchers) are left alone otherwise. Returns what it wrote. */
export function writeFiles(root: string, files: readonly GeneratedFile[]): string[] {
  const stale = new Set(staleFiles(root, files));
  for (const file of files) {
    if (!stale.has(file.path)) continue;
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), file.content);
  }
  return [...stale];
}
