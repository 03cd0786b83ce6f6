import { hash, parseOptions, verify, type Algorithm } from '@node-rs/argon2';
import type { FieldIssue } from '@gpuaas/errors';
import { isCommonPassword } from './common-passwords.js';

/**
 * argon2id cost parameters. The defaults are OWASP's Password Storage Cheat Sheet recommendation for argon2id
 * (m = 19 MiB, t = 2, p = 1): ~20–30 ms per hash on one core, so a login burst stays affordable while an
 * offline guess costs 19 MiB of memory each, which is what hurts GPU crackers.
 */
export interface PasswordHashParams {
  /** KiB of memory per hash (`m=` in the PHC string). */
  readonly memoryCostKiB: number;
  /** Passes over memory (`t=`). */
  readonly timeCost: number;
  /** Lanes (`p=`). */
  readonly parallelism: number;
}

export const OWASP_ARGON2ID_PARAMS: PasswordHashParams = Object.freeze({ memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 });

// The package declares `Algorithm` as an ambient const enum (unusable under isolatedModules); 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;
const OUTPUT_LENGTH = 32;

function argonOptions(params: PasswordHashParams) {
  return {
    algorithm: ARGON2ID,
    memoryCost: params.memoryCostKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    outputLen: OUTPUT_LENGTH,
  };
}

// NFKC so that the same visible password typed on different keyboards/IMEs hashes the same (NIST 800-63B 5.1.1.2).
function normalize(password: string): string {
  return password.normalize('NFKC');
}

/** Hashes a password with argon2id and a fresh 16-byte salt; returns the PHC string (`$argon2id$v=19$m=…`). */
export async function hashPassword(password: string, params: PasswordHashParams = OWASP_ARGON2ID_PARAMS): Promise<string> {
  return hash(normalize(password), argonOptions(params));
}

/**
 * True when `password` matches `storedHash`. A stored value that is not an argon2 PHC string answers false
 * (it can never match) instead of throwing, so a corrupt row cannot turn a login into a 500.
 */
export async function verifyPassword(password: string, storedHash: string): Promise<boolean> {
  try {
    return await verify(storedHash, normalize(password));
  } catch {
    return false;
  }
}

const dummyHashes = new Map<string, Promise<string>>();

function dummyHashFor(params: PasswordHashParams): Promise<string> {
  const key = `${params.memoryCostKiB}:${params.timeCost}:${params.parallelism}`;
  let dummy = dummyHashes.get(key);
  if (!dummy) {
    dummy = hashPassword('gpuaas-dummy-password-for-unknown-accounts', params);
    dummyHashes.set(key, dummy);
  }
  return dummy;
}

/**
 * Spends the same work as `verifyPassword` against a real hash with the current parameters, and always answers
 * false. Call it when the email has no account (or no password) so the answer time does not reveal that.
 */
export async function verifyAgainstDummy(password: string, params: PasswordHashParams = OWASP_ARGON2ID_PARAMS): Promise<false> {
  const dummy = await dummyHashFor(params);
  await verifyPassword(password, dummy);
  return false;
}

/** Computes the dummy hash ahead of time so the first unknown-email login is not slower than the rest. */
export async function warmUpDummyHash(params: PasswordHashParams = OWASP_ARGON2ID_PARAMS): Promise<void> {
  await dummyHashFor(params);
}

/** True when a stored hash was made with another algorithm or weaker/different parameters: rehash after a good login. */
export function needsRehash(storedHash: string, params: PasswordHashParams = OWASP_ARGON2ID_PARAMS): boolean {
  try {
    const parsed = parseOptions(storedHash);
    return (
      parsed.algorithm !== ARGON2ID ||
      parsed.memoryCost !== params.memoryCostKiB ||
      parsed.timeCost !== params.timeCost ||
      parsed.parallelism !== params.parallelism ||
      parsed.outputLen !== OUTPUT_LENGTH
    );
  } catch {
    return true;
  }
}

/** Bounds of the contract's `AccessPassword` schema (doc/api/openapi/access.yaml), counted in code points. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

export interface PasswordPolicyContext {
  /** The account's email; a password equal to it (case-insensitively) is refused. */
  readonly email?: string;
  /** Where the password sits in the request, for `details.fields[].field`. */
  readonly field?: string;
}

/**
 * Checks a new password against the contract's rules: 12–128 characters, not the email, not a common or
 * trivially guessable password (one repeated character, a keyboard/alphabet/digit run). Returns every issue
 * for `validation_error` details; an empty array means acceptable. No composition rules (NIST 800-63B).
 */
export function checkPasswordPolicy(password: string, context: PasswordPolicyContext = {}): FieldIssue[] {
  const field = context.field ?? 'body.password';
  const issues: FieldIssue[] = [];
  // JSON Schema (and so the REST validator) counts code points, not UTF-16 units; count the same way.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) issues.push({ field, message: `must be at least ${PASSWORD_MIN_LENGTH} characters long` });
  if (length > PASSWORD_MAX_LENGTH) issues.push({ field, message: `must be at most ${PASSWORD_MAX_LENGTH} characters long` });
  if (issues.length > 0) return issues;

  const folded = normalize(password).toLowerCase();
  if (context.email !== undefined && folded === normalize(context.email.trim()).toLowerCase()) {
    issues.push({ field, message: 'must not be the same as the email address' });
  } else if (isCommonPassword(folded)) {
    issues.push({ field, message: 'is too common or too easy to guess; choose a longer, less predictable passphrase' });
  }
  return issues;
}
