import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type CryptoKey, type JWK } from 'jose';

/** Asymmetric JWS algorithms an access token may be signed with; symmetric ones are never accepted. */
export const SIGNING_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** Only the public members of a JWK: what `/.well-known/jwks.json` serves and verifiers import. */
export interface PublicJwk {
  readonly kty: string;
  readonly kid: string;
  readonly alg?: string;
  readonly use?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
}

export interface SigningKey {
  /** RFC 7638 thumbprint of the public key: stable, unique, and needs no counter. */
  readonly kid: string;
  readonly algorithm: SigningAlgorithm;
  readonly privateJwk: JWK & { readonly kid: string };
  readonly publicJwk: PublicJwk;
  /** PKCS#8 PEM, the form `access.signing_keys.private_key_pem` stores. */
  readonly privateKeyPem: string;
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/** Copies only public members; whatever else a stored or exported JWK carries (`d`, `p`, `q`…) is dropped. */
export function toPublicJwk(jwk: JWK, kid: string, algorithm?: string): PublicJwk {
  const result: Record<string, string> = {};
  for (const member of PUBLIC_MEMBERS) {
    const value = jwk[member];
    if (typeof value === 'string') result[member] = value;
  }
  if (typeof result.kty !== 'string') throw new TypeError('A JWK needs a "kty" member');
  const alg = algorithm ?? jwk.alg;
  return { ...result, kty: result.kty, kid, ...(alg ? { alg } : {}), use: 'sig' };
}

function keyGenAlgorithm(algorithm: SigningAlgorithm): 'Ed25519' | 'ES256' {
  return algorithm === 'EdDSA' ? 'Ed25519' : 'ES256';
}

async function fromPrivateKey(privateKey: CryptoKey, algorithm: SigningAlgorithm, kid?: string): Promise<SigningKey> {
  const jwk = await exportJWK(privateKey);
  const publicOnly = toPublicJwk(jwk, '', algorithm);
  const thumbprint = kid ?? (await calculateJwkThumbprint(publicOnly));
  return {
    kid: thumbprint,
    algorithm,
    privateJwk: { ...jwk, kid: thumbprint, alg: algorithm, use: 'sig' },
    publicJwk: { ...publicOnly, kid: thumbprint },
    privateKeyPem: await exportPKCS8(privateKey),
  };
}

/** A fresh signing key pair (Ed25519 by default); store it, publish `publicJwk`, sign with the newest one. */
export async function createSigningKey(options: { algorithm?: SigningAlgorithm } = {}): Promise<SigningKey> {
  const algorithm = options.algorithm ?? 'EdDSA';
  const { privateKey } = await generateKeyPair(keyGenAlgorithm(algorithm), { extractable: true });
  return fromPrivateKey(privateKey, algorithm);
}

/** Rebuilds a signing key from its stored PEM (and stored kid, so tokens already out keep verifying). */
export async function importSigningKey(stored: { kid?: string; algorithm: SigningAlgorithm; privateKeyPem: string }): Promise<SigningKey> {
  const privateKey = await importPKCS8(stored.privateKeyPem, stored.algorithm, { extractable: true });
  return fromPrivateKey(privateKey, stored.algorithm, stored.kid);
}
