import { createHash, createPublicKey } from 'node:crypto';
import { AppError } from '@gpuaas/errors';

export const SSH_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type SshKeyAlgorithm = (typeof SSH_KEY_ALGORITHMS)[number];

export const SSH_RSA_MIN_BITS = 2048;
/** The contract's upper bound for `bits`; larger RSA keys only cost CPU on every login. */
export const SSH_RSA_MAX_BITS = 16_384;
const MAX_LINE_LENGTH = 8_192;
const MAX_COMMENT_LENGTH = 1_024;

export interface ParsedSshKey {
  readonly algorithm: SshKeyAlgorithm;
  readonly bits: number;
  /** `SHA256:<unpadded base64>`, exactly what `ssh-keygen -lf` prints. */
  readonly fingerprint: string;
  /** `<type> <canonical base64>`, without the comment: what gets installed in authorized_keys. */
  readonly normalizedKey: string;
  readonly comment: string | null;
}

const CURVES = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', jwkCurve: 'P-256', bits: 256, coordinateBytes: 32 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', jwkCurve: 'P-384', bits: 384, coordinateBytes: 48 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', jwkCurve: 'P-521', bits: 521, coordinateBytes: 66 },
} as const;

const REFUSED_TYPES: Readonly<Record<string, string>> = {
  'ssh-dss': 'DSA keys are no longer accepted; use an ed25519 key (ssh-keygen -t ed25519)',
};

function isAccepted(type: string): type is SshKeyAlgorithm {
  return (SSH_KEY_ALGORITHMS as readonly string[]).includes(type);
}

/** A parse failure, turned into `validation_error` on the caller's field at the boundary of `parseSshPublicKey`. */
class KeyProblem extends Error {}

/** Reads the SSH wire format (RFC 4251 §5): uint32-length-prefixed strings and mpints. */
class WireReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  string(): Buffer {
    if (this.offset + 4 > this.bytes.length) throw new KeyProblem('the key data is truncated');
    const length = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    if (length > this.bytes.length - this.offset) throw new KeyProblem('the key data is truncated');
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string {
    return this.string().toString('latin1');
  }

  /** A non-negative mpint, returned without its sign-padding zero byte. */
  positiveMpint(): Buffer {
    const value = this.string();
    if (value.length === 0) throw new KeyProblem('an RSA key number is zero');
    if ((value[0] ?? 0) & 0x80) throw new KeyProblem('an RSA key number is negative');
    if (value[0] === 0 && (value.length === 1 || ((value[1] ?? 0) & 0x80) === 0)) throw new KeyProblem('an RSA key number is not minimally encoded');
    return value[0] === 0 ? value.subarray(1) : value;
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw new KeyProblem('the key data has trailing bytes');
  }
}

function bitLength(magnitude: Buffer): number {
  const top = magnitude[0] ?? 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(top));
}

function checkRsa(reader: WireReader): number {
  const exponent = reader.positiveMpint();
  const modulus = reader.positiveMpint();
  reader.end();
  if (((exponent[exponent.length - 1] ?? 0) & 1) === 0 || bitLength(exponent) < 2 || exponent.length > 8) {
    throw new KeyProblem('the RSA public exponent is invalid');
  }
  if (((modulus[modulus.length - 1] ?? 0) & 1) === 0) throw new KeyProblem('the RSA modulus is invalid');
  const bits = bitLength(modulus);
  if (bits < SSH_RSA_MIN_BITS) throw new KeyProblem(`RSA keys must have at least ${SSH_RSA_MIN_BITS} bits; this one has ${bits}`);
  if (bits > SSH_RSA_MAX_BITS) throw new KeyProblem(`RSA keys may have at most ${SSH_RSA_MAX_BITS} bits; this one has ${bits}`);
  return bits;
}

function checkEcdsa(reader: WireReader, algorithm: keyof typeof CURVES): number {
  const curve = CURVES[algorithm];
  const curveName = reader.text();
  if (curveName !== curve.name) throw new KeyProblem(`the key's curve ${curveName} does not match its type ${algorithm}`);
  const point = reader.string();
  reader.end();
  if (point.length !== 1 + 2 * curve.coordinateBytes || point[0] !== 0x04) throw new KeyProblem('the ECDSA public point is malformed');
  try {
    // Node refuses a point that is not on the curve; an off-curve key could never verify a signature anyway.
    createPublicKey({
      format: 'jwk',
      key: {
        kty: 'EC',
        crv: curve.jwkCurve,
        x: point.subarray(1, 1 + curve.coordinateBytes).toString('base64url'),
        y: point.subarray(1 + curve.coordinateBytes).toString('base64url'),
      },
    });
  } catch {
    throw new KeyProblem('the ECDSA public point is not on the curve');
  }
  return curve.bits;
}

function checkEd25519(reader: WireReader): number {
  const publicKey = reader.string();
  reader.end();
  if (publicKey.length !== 32) throw new KeyProblem('the ed25519 public key must be 32 bytes');
  return 256;
}

function decodeBase64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw new KeyProblem('the key data is not valid base64 (corrupted or cut short?)');
  const bytes = Buffer.from(text, 'base64');
  // Node decodes leniently; a round trip catches non-canonical padding bits.
  if (bytes.toString('base64') !== text) throw new KeyProblem('the key data is not valid base64 (corrupted or cut short?)');
  return bytes;
}

function splitLine(input: string): { type: string; data: string; comment: string | null } {
  if (input.length > MAX_LINE_LENGTH) throw new KeyProblem(`must be at most ${MAX_LINE_LENGTH} characters`);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(input)) {
    throw new KeyProblem('this is a private key; paste the public key (the .pub file) and keep the private key secret');
  }
  if (/-----BEGIN [A-Z ]*PUBLIC KEY-----|---- BEGIN SSH2 PUBLIC KEY ----/.test(input)) {
    throw new KeyProblem('must be in OpenSSH format (one line: type, key, optional comment), as in a .pub file');
  }
  const line = input.trim();
  if (line.length === 0) throw new KeyProblem('must not be empty');
  if (/[\r\n]/.test(line)) throw new KeyProblem('must be a single line holding one key');
  const match = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (!match) throw new KeyProblem('must be "<type> <base64 key> [comment]"');
  const comment = match[3]?.trim() || null;
  if (comment !== null && (comment.length > MAX_COMMENT_LENGTH || /\p{Cc}/u.test(comment))) {
    throw new KeyProblem('the comment is too long or holds control characters');
  }
  return { type: match[1] ?? '', data: match[2] ?? '', comment };
}

function parse(input: string): ParsedSshKey {
  const { type, data, comment } = splitLine(input);
  const refused = REFUSED_TYPES[type];
  if (refused) throw new KeyProblem(refused);
  if (!isAccepted(type)) {
    throw new KeyProblem(`key type ${type.slice(0, 64)} is not accepted; use one of ${SSH_KEY_ALGORITHMS.join(', ')}`);
  }
  const blob = decodeBase64(data);
  const reader = new WireReader(blob);
  const embedded = reader.text();
  if (embedded !== type) throw new KeyProblem(`the key data is a ${embedded.slice(0, 64)} key but the line says ${type}`);
  const bits = type === 'ssh-ed25519' ? checkEd25519(reader) : type === 'ssh-rsa' ? checkRsa(reader) : checkEcdsa(reader, type);
  return {
    algorithm: type,
    bits,
    fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
    normalizedKey: `${type} ${blob.toString('base64')}`,
    comment,
  };
}

/**
 * Parses one line of OpenSSH public key text (`<type> <base64> [comment]`) by decoding its wire format: the
 * embedded type must match the prefix, ECDSA curve and point must match, RSA needs ≥ 2048 bits. Anything else is
 * `validation_error` with a reason on `field`.
 */
export function parseSshPublicKey(input: string, options: { field?: string } = {}): ParsedSshKey {
  try {
    if (typeof input !== 'string') throw new KeyProblem('must be a string');
    return parse(input);
  } catch (error) {
    if (!(error instanceof KeyProblem)) throw error;
    const field = options.field ?? 'body.public_key';
    throw new AppError('validation_error', 'The SSH public key is not acceptable', { fields: [{ field, message: error.message }] });
  }
}
