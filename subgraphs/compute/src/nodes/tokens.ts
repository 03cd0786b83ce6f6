import { createHash, randomBytes } from 'node:crypto';

/** Only hashes are stored: a leaked database row never lets anyone act as a node. */
export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** One-time registration secret (`nbt_…`, url-safe, 256 random bits). */
export function newBootstrapToken(): string {
  return `nbt_${randomBytes(32).toString('base64url')}`;
}

/** Long-lived agent credential `nc_<node id prefix>.<secret>`: the prefix only helps operators tell credentials apart. */
export function newNodeCredential(nodeId: string): string {
  return `nc_${nodeId.replaceAll('-', '').slice(0, 16)}.${randomBytes(32).toString('base64url')}`;
}

export function isNodeCredentialShape(token: string): boolean {
  return token.startsWith('nc_');
}
