import type { KeyObject } from 'node:crypto';

/** SSH wire `string`: uint32 big-endian length, then the bytes. */
export function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** SSH wire `mpint` of a positive number given as big-endian magnitude: a zero byte is prepended when the top bit is set. */
export function sshMpint(magnitude: Buffer): Buffer {
  let trimmed = magnitude;
  while (trimmed.length > 1 && trimmed[0] === 0) trimmed = trimmed.subarray(1);
  return sshString((trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function sshLine(blob: Buffer, type: string, comment?: string): string {
  return `${type} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** Encodes a node public key in OpenSSH's public key format, independently of the code under test. */
export function toOpenSshLine(publicKey: KeyObject, comment?: string): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') {
    const blob = Buffer.concat([sshString('ssh-rsa'), sshMpint(Buffer.from(jwk.e ?? '', 'base64url')), sshMpint(Buffer.from(jwk.n ?? '', 'base64url'))]);
    return sshLine(blob, 'ssh-rsa', comment);
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    return sshLine(Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x ?? '', 'base64url'))]), 'ssh-ed25519', comment);
  }
  if (jwk.kty === 'EC') {
    const curve = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' }[jwk.crv ?? ''];
    if (!curve) throw new Error(`unsupported curve ${jwk.crv}`);
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
    const type = `ecdsa-sha2-${curve}`;
    return sshLine(Buffer.concat([sshString(type), sshString(curve), sshString(point)]), type, comment);
  }
  throw new Error(`unsupported key type ${jwk.kty}`);
}
