import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDirs, listFiles, repoPath } from './repo.js';

/** A source file prepared for pattern scans: comments blanked out (same offsets), original kept for allow markers. */
export interface SourceFile {
  /** Repo-relative, forward slashes. */
  readonly path: string;
  readonly text: string;
  readonly code: string;
}

/**
 * Boundary code: what runs inside a deployable. `*` expands to each folder (e.g. each subgraph).
 * Tests and generated folders are not scanned.
 */
export function loadSources(root: string, patterns: readonly string[], extensions: readonly string[] = ['.ts', '.tsx', '.mts']): SourceFile[] {
  const dirs = patterns.flatMap((pattern) => {
    const [before, after] = pattern.split('/*');
    return after === undefined ? [join(root, pattern)] : listDirs(join(root, before!)).map((dir) => join(dir, after));
  });
  return dirs
    .flatMap((dir) => listFiles(dir, extensions))
    .map((file) => {
      const text = readFileSync(file, 'utf8');
      return { path: repoPath(root, file), text, code: blankComments(text) };
    });
}

/**
 * Replaces `//` and `/* *\/` comments with spaces, keeping newlines, so patterns in comments never match and
 * offsets still map to lines. Strings and template literals are skipped as a whole (a `//` in a URL is not a comment).
 */
export function blankComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') j++;
        else if (c !== '`' && text[j] === '\n') break;
        j++;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * `// ci-allow <gate>: <reason>` on the line of a finding or the line above exempts it; the reason is mandatory,
 * so every exemption says why in the code itself.
 */
export function isAllowed(file: SourceFile, line: number, gate: string): boolean {
  const lines = file.text.split('\n');
  const marker = new RegExp(`ci-allow\\s+${gate}\\s*:\\s*\\S`);
  return [lines[line - 1], lines[line - 2]].some((l) => l !== undefined && marker.test(l));
}

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export function formatFinding(finding: Finding): string {
  return `${finding.file}:${finding.line}: ${finding.message}`;
}

/** Every match of `pattern` (global) in the file's code, minus allowed lines; `describe` may veto a match. */
export function scan(file: SourceFile, pattern: RegExp, gate: string, describe: (match: RegExpExecArray) => string | undefined): Finding[] {
  const findings: Finding[] = [];
  for (const match of file.code.matchAll(pattern)) {
    const message = describe(match as RegExpExecArray);
    if (message === undefined) continue;
    const line = lineAt(file.code, match.index);
    if (!isAllowed(file, line, gate)) findings.push({ file: file.path, line, message });
  }
  return findings;
}

/** The text between the parenthesis at `open` and its partner; parentheses inside string literals do not count. */
export function balancedArguments(code: string, open: number): string {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < code.length && code[i] !== c; i++) if (code[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return code.slice(open + 1, i);
  }
  return code.slice(open + 1);
}
