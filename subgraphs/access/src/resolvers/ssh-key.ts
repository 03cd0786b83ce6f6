import type { AccessContext } from '../context.js';
import type { SshKeyRecord } from '../repositories/ssh-keys.js';
import { getSshKey } from '../services/ssh-keys.js';
import { toSshKeyAlgorithm } from './mappers.js';

export const SshKey = {
  /** Only the key's owner can resolve it; anyone else gets `not_found`. */
  __resolveReference: (reference: { id: string }, ctx: AccessContext) => getSshKey(ctx.deps, ctx, reference.id),
  algorithm: (key: SshKeyRecord) => toSshKeyAlgorithm(key.algorithm),
};
