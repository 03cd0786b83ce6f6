import { parseSshPublicKey } from '@gpuaas/auth';
import { uuidv7 } from '@gpuaas/db';
import { AppError, NotFound } from '@gpuaas/errors';
import { isUuid, pageRequest, toPage, type Page } from '../pagination.js';
import { isUniqueViolation } from '../repositories/db.js';
import { deleteSshKey as deleteSshKeyRow, findSshKey, insertSshKey, listSshKeys, type SshKeyRecord } from '../repositories/ssh-keys.js';
import { requireActor } from './actor.js';
import type { AccessDeps, Caller } from './deps.js';
import { Issues, text } from './validation.js';

const keyNotFound = () => NotFound('SSH key');

/** The caller's own keys, newest first. */
export async function listMySshKeys(
  deps: AccessDeps,
  caller: Caller,
  args: { first?: number | null | undefined; after?: string | null | undefined },
): Promise<Page<SshKeyRecord>> {
  const actor = await requireActor(deps, caller);
  const page = pageRequest(args.first, args.after);
  const rows = await listSshKeys(deps.pool, actor.userId, page);
  return toPage(rows, page, (row) => ({ ts: row.cursorTs, id: row.id }));
}

/** One of the caller's keys; another user's key answers like a missing one. */
export async function getSshKey(deps: AccessDeps, caller: Caller, keyId: string): Promise<SshKeyRecord> {
  const actor = await requireActor(deps, caller);
  const key = isUuid(keyId) ? await findSshKey(deps.pool, actor.userId, keyId) : null;
  if (!key) throw keyNotFound();
  return key;
}

/**
 * Adds a public key after decoding its wire format (type, curve, RSA ≥ 2048 bits); what is stored and later
 * installed is the normalised `<type> <base64>`, without the comment. A fingerprint or name the caller already
 * has is `already_exists`.
 */
export async function createSshKey(deps: AccessDeps, caller: Caller, input: { name: string; publicKey: string }): Promise<SshKeyRecord> {
  const actor = await requireActor(deps, caller);
  const issues = new Issues();
  const name = text(issues, input.name, 'body.name', 64);
  let parsed: ReturnType<typeof parseSshPublicKey> | undefined;
  try {
    parsed = parseSshPublicKey(input.publicKey, { field: 'body.public_key' });
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'validation_error') throw error;
    issues.addAll(error.details?.fields ?? []);
  }
  issues.throwIfAny();
  const key = parsed as NonNullable<typeof parsed>;
  try {
    return await insertSshKey(deps.pool, actor.userId, {
      id: uuidv7(),
      name,
      algorithm: key.algorithm,
      bits: key.bits,
      fingerprint: key.fingerprint,
      publicKey: key.normalizedKey,
    });
  } catch (error) {
    if (isUniqueViolation(error, 'ssh_keys_user_fingerprint_key')) {
      throw new AppError('already_exists', 'You already added this key', {
        fields: [{ field: 'body.public_key', message: `a key with fingerprint ${key.fingerprint} is already added` }],
      });
    }
    if (isUniqueViolation(error, 'ssh_keys_user_name_key')) {
      throw new AppError('already_exists', 'You already have a key with this name', { fields: [{ field: 'body.name', message: 'is taken' }] });
    }
    throw error;
  }
}

export async function deleteSshKey(deps: AccessDeps, caller: Caller, keyId: string): Promise<boolean> {
  const actor = await requireActor(deps, caller);
  if (!isUuid(keyId) || !(await deleteSshKeyRow(deps.pool, actor.userId, keyId))) throw keyNotFound();
  return true;
}
